CREATE SCHEMA IF NOT EXISTS "spane";
--> statement-breakpoint
CREATE TABLE "spane"."execution_logs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "spane"."execution_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"execution_id" text NOT NULL,
	"at" bigint NOT NULL,
	"level" text NOT NULL,
	"message" text NOT NULL,
	"node_id" text,
	CONSTRAINT "execution_logs_level_valid" CHECK (level in ('info', 'warn', 'error'))
);
--> statement-breakpoint
CREATE TABLE "spane"."executions" (
	"execution_id" text PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "spane"."executions_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"workflow_id" text NOT NULL,
	"workflow_version" integer NOT NULL,
	"status" text NOT NULL,
	"initial_data" jsonb,
	"parent_execution_id" text,
	"parent_node_id" text,
	"depth" integer DEFAULT 0 NOT NULL,
	"started_at" bigint NOT NULL,
	"completed_at" bigint,
	"error" text,
	"paused_at" bigint,
	CONSTRAINT "executions_status_valid" CHECK (status in ('pending', 'running', 'paused', 'completed', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "spane"."node_results" (
	"execution_id" text NOT NULL,
	"node_id" text NOT NULL,
	"status" text NOT NULL,
	"data" jsonb,
	"error" text,
	"next_nodes" jsonb,
	"attempts" integer NOT NULL,
	"started_at" bigint,
	"completed_at" bigint NOT NULL,
	CONSTRAINT "node_results_execution_id_node_id_pk" PRIMARY KEY("execution_id","node_id"),
	CONSTRAINT "node_results_status_valid" CHECK (status in ('completed', 'failed', 'skipped'))
);
--> statement-breakpoint
CREATE TABLE "spane"."workflows" (
	"id" text NOT NULL,
	"version" integer NOT NULL,
	"definition" jsonb NOT NULL,
	"change_notes" text,
	"created_at" bigint NOT NULL,
	CONSTRAINT "workflows_id_version_pk" PRIMARY KEY("id","version"),
	CONSTRAINT "workflows_version_positive" CHECK (version > 0)
);
--> statement-breakpoint
ALTER TABLE "spane"."execution_logs" ADD CONSTRAINT "execution_logs_execution_fk" FOREIGN KEY ("execution_id") REFERENCES "spane"."executions"("execution_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "spane"."node_results" ADD CONSTRAINT "node_results_execution_fk" FOREIGN KEY ("execution_id") REFERENCES "spane"."executions"("execution_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "execution_logs_execution_idx" ON "spane"."execution_logs" USING btree ("execution_id","id");--> statement-breakpoint
CREATE INDEX "executions_parent_idx" ON "spane"."executions" USING btree ("parent_execution_id");--> statement-breakpoint
CREATE INDEX "executions_workflow_status_idx" ON "spane"."executions" USING btree ("workflow_id","status");--> statement-breakpoint
CREATE INDEX "executions_seq_idx" ON "spane"."executions" USING btree ("seq");