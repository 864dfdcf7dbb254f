ALTER TABLE "spane"."executions" ADD COLUMN "forked_from_execution_id" text;--> statement-breakpoint
ALTER TABLE "spane"."executions" ADD COLUMN "forked_from_node_id" text;