import { normaliseWebhookPath } from '../../definition/triggers.js';
import type { WebhookTrigger, WorkflowDefinition } from '../../definition/types.js';
import type { ExecutionStore } from '../../store/store.js';

/** A workflow's webhook trigger on a path. */
export interface WebhookMatch {
  workflowId: string;
  trigger: WebhookTrigger;
}

/** The index is listed again from the store when older than this, so triggers other engines registered are found. */
const MAX_AGE_MS = 5_000;
/**
 * A miss lists again only when the index is older than this: a flood of unknown paths costs at
 * most four listings a second, and a workflow another engine registered is found within it.
 */
const MISS_REFRESH_MS = 250;

/**
 * Which workflows have a webhook trigger on which path: a Map from the normalised path to
 * workflow ids, built from the store (every engine's workflows), kept current for the workflows
 * this engine registers, and listed again when older than 5 s or, at most every 250 ms, on a
 * miss. A hit is confirmed against the workflow's latest stored definition, so a
 * trigger that another engine removed or changed is not used from a stale index.
 */
export class WebhookIndex {
  private paths = new Map<string, Set<string>>();
  private builtAt = Number.NEGATIVE_INFINITY;
  private building: Promise<void> | undefined;
  /** Definitions remembered while a listing is in flight: it may predate them, so they are applied again after it. */
  private rememberedDuringBuild: WorkflowDefinition[] = [];

  constructor(private readonly store: ExecutionStore) {}

  /** Puts a definition this engine just stored into the index (replacing its earlier paths). */
  remember(def: WorkflowDefinition): void {
    if (this.building !== undefined) this.rememberedDuringBuild.push(def);
    this.forget(this.paths, def.id);
    this.add(this.paths, def);
  }

  /** The triggers on `path` (normalised) whose method matches, at most one per workflow. */
  async matching(path: string, method: string): Promise<WebhookMatch[]> {
    if (Date.now() - this.builtAt > MAX_AGE_MS) await this.rebuild();
    let ids = this.paths.get(path);
    if (ids === undefined && Date.now() - this.builtAt > MISS_REFRESH_MS) {
      await this.rebuild();
      ids = this.paths.get(path);
    }
    if (ids === undefined) return [];
    const defs = await Promise.all([...ids].map((id) => this.store.getWorkflow(id)));
    const out: WebhookMatch[] = [];
    for (const def of defs) {
      const trigger = def === null ? undefined : triggerOn(def, path, method);
      if (trigger !== undefined) out.push({ workflowId: def!.id, trigger });
    }
    return out.sort((a, b) => (a.workflowId < b.workflowId ? -1 : a.workflowId > b.workflowId ? 1 : 0));
  }

  private rebuild(): Promise<void> {
    this.building ??= (async () => {
      const started = Date.now();
      const next = new Map<string, Set<string>>();
      for (const def of await this.store.listWorkflows()) this.add(next, def);
      for (const def of this.rememberedDuringBuild.splice(0)) {
        this.forget(next, def.id);
        this.add(next, def);
      }
      this.paths = next;
      this.builtAt = started;
    })().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  private forget(from: Map<string, Set<string>>, workflowId: string): void {
    for (const [path, ids] of from) {
      ids.delete(workflowId);
      if (ids.size === 0) from.delete(path);
    }
  }

  private add(into: Map<string, Set<string>>, def: WorkflowDefinition): void {
    for (const t of def.triggers ?? []) {
      if (t.type !== 'webhook') continue;
      const path = normaliseWebhookPath(t.config.path);
      let ids = into.get(path);
      if (ids === undefined) into.set(path, (ids = new Set()));
      ids.add(def.id);
    }
  }
}

function triggerOn(def: WorkflowDefinition, path: string, method: string): WebhookTrigger | undefined {
  for (const t of def.triggers ?? []) {
    if (t.type !== 'webhook' || normaliseWebhookPath(t.config.path) !== path) continue;
    if (t.config.method === undefined || t.config.method.toUpperCase() === method) return t;
  }
  return undefined;
}
