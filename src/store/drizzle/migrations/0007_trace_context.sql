ALTER TABLE "spane"."executions" ADD COLUMN "trace_id" text;--> statement-breakpoint
ALTER TABLE "spane"."executions" ADD COLUMN "trace_parent" text;