ALTER TABLE "spane"."executions" ADD COLUMN "error_details" jsonb;--> statement-breakpoint
ALTER TABLE "spane"."node_results" ADD COLUMN "error_details" jsonb;