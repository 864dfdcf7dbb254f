DROP INDEX "spane"."executions_workflow_status_idx";--> statement-breakpoint
CREATE INDEX "executions_started_idx" ON "spane"."executions" USING btree ("started_at","execution_id");--> statement-breakpoint
CREATE INDEX "executions_workflow_started_idx" ON "spane"."executions" USING btree ("workflow_id","started_at","execution_id");--> statement-breakpoint
CREATE INDEX "executions_status_started_idx" ON "spane"."executions" USING btree ("status","started_at","execution_id");--> statement-breakpoint
CREATE INDEX "executions_id_prefix_idx" ON "spane"."executions" USING btree ("execution_id" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "executions_workflow_status_idx" ON "spane"."executions" USING btree ("workflow_id","status","started_at","execution_id");