CREATE TABLE "spane"."waits" (
	"execution_id" text NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"state" text NOT NULL,
	"node_id" text,
	"payload" jsonb,
	"resolution" text,
	"match_value" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "waits_execution_id_kind_key_pk" PRIMARY KEY("execution_id","kind","key"),
	CONSTRAINT "waits_state_valid" CHECK (state in ('waiting', 'delivered', 'resolved')),
	CONSTRAINT "waits_resolution_valid" CHECK (resolution is null or resolution in ('signal', 'timeout'))
);
--> statement-breakpoint
ALTER TABLE "spane"."waits" ADD CONSTRAINT "waits_execution_fk" FOREIGN KEY ("execution_id") REFERENCES "spane"."executions"("execution_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "waits_match_idx" ON "spane"."waits" USING btree ("kind","key","match_value") WHERE state = 'waiting';