CREATE TABLE "spane"."payloads" (
	"execution_id" text NOT NULL,
	"payload_id" text NOT NULL,
	"data" jsonb NOT NULL,
	"bytes" integer NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "payloads_execution_id_payload_id_pk" PRIMARY KEY("execution_id","payload_id")
);
--> statement-breakpoint
ALTER TABLE "spane"."payloads" ADD CONSTRAINT "payloads_execution_fk" FOREIGN KEY ("execution_id") REFERENCES "spane"."executions"("execution_id") ON DELETE cascade ON UPDATE no action;