// A typedoc plugin (loaded from typedoc.json): puts every export of src/index.ts, and every guide
// of docs/, into one category of the API site, by the file it comes from.
//
// Why a plugin and not a `@category` tag on each of the ~300 exports: the folders already say
// where a symbol belongs (src/dsl is the DSL, src/errors the errors, ...), a tag per export would
// be one more line to forget on each new one, and a new export lands in its folder's category by
// itself. An explicit `@category` in a comment still wins. An export from a file that no rule
// below covers is a warning, which `treatWarningsAsErrors` turns into a failed build: add a rule.
//
// Guides get a title from their first `# ` heading, so the site does not call them "dsl" or
// "worker-crashes" (their pages keep the file's name: documents/dsl.html).
//
// Headings: typedoc 0.28 builds a heading's anchor from its text tokens only, so
// "## `spane init [dir]`" gets the anchor "_" and a link written for GitHub
// (cli.md#spane-init-dir) is a broken-link warning. A markdown-it rule below turns a code span in
// a heading into <code>, text, </code>, which typedoc then counts.
import { readdirSync } from 'node:fs';
import { Application, CommentTag, Converter, Renderer } from 'typedoc';

/** Categories in the order the site lists them (typedoc.json's `categoryOrder` repeats it). */
export const CATEGORY_ORDER = [
  'DSL',
  'Engine',
  'Definitions',
  'Stores',
  'Backends',
  'Triggers',
  'Events',
  'Dashboard',
  'Metrics',
  'Resilience',
  'Worker threads',
  'Errors',
  'CLI',
  'Testing',
  'Engine internals',
];

/** [source path (relative to the package) or its prefix, category]; the first match wins. */
const SOURCE_RULES = [
  ['src/dsl/', 'DSL'],
  ['src/definition/typed-workflow.ts', 'DSL'],
  ['src/definition/triggers.ts', 'Triggers'],
  ['src/definition/', 'Definitions'],
  ['src/errors/', 'Errors'],
  ['src/runtime/engine/typed-events.ts', 'Events'],
  ['src/runtime/engine/', 'Engine'],
  ['src/runtime/execution/reconciler.ts', 'Engine'],
  ['src/runtime/execution/sub-workflows.ts', 'Engine'],
  ['src/runtime/execution/fork.ts', 'Engine'],
  ['src/runtime/execution/signals.ts', 'Engine'],
  ['src/runtime/execution/events-wait.ts', 'Engine'],
  ['src/runtime/execution/payloads.ts', 'Stores'],
  ['src/runtime/execution/node-processor.ts', 'Engine internals'],
  ['src/runtime/queues/backends/', 'Backends'],
  ['src/runtime/queues/', 'Engine internals'],
  ['src/runtime/observe/metrics.ts', 'Metrics'],
  ['src/runtime/observe/', 'Events'],
  ['src/runtime/resilience/', 'Resilience'],
  ['src/runtime/sandbox/', 'Worker threads'],
  ['src/runtime/triggers/', 'Triggers'],
  ['src/store/', 'Stores'],
  ['src/dashboard/', 'Dashboard'],
  ['src/testing/', 'Testing'],
];

/** Exports whose file's rule would put them elsewhere. */
const NAME_RULES = {
  WorkerThreadsConfig: 'Worker threads',
};

/** Guides (docs/<name>.md) by file name. */
const DOCUMENT_RULES = {
  dsl: 'DSL',
  'sub-workflows': 'DSL',
  architecture: 'Engine',
  reliability: 'Engine',
  'worker-crashes': 'Engine',
  benchmarks: 'Engine',
  'react-flow': 'Definitions',
  persistence: 'Stores',
  backends: 'Backends',
  triggers: 'Triggers',
  events: 'Events',
  dashboard: 'Dashboard',
  metrics: 'Metrics',
  resilience: 'Resilience',
  'worker-threads': 'Worker threads',
  cli: 'CLI',
  fork: 'Engine',
  signals: 'Engine',
  'events-wait': 'Engine',
  tracing: 'Events',
  testing: 'Testing',
};

function categoryOfSource(path) {
  for (const [prefix, category] of SOURCE_RULES) {
    if (path === prefix || (prefix.endsWith('/') && path.startsWith(prefix))) return category;
  }
  return undefined;
}

function hasCategory(reflection) {
  const comments = [reflection.comment, ...(reflection.signatures ?? []).map((s) => s.comment)];
  return comments.some((c) => c?.blockTags.some((t) => t.tag === '@category'));
}

/** The comment that carries the symbol's summary: a function's is on its first signature. */
function commentOf(reflection) {
  return reflection.comment ?? reflection.signatures?.[0]?.comment;
}

/** The text of a guide's first `# ` heading, without Markdown code ticks. */
function headingOf(document) {
  const text = document.content.map((part) => part.text).join('');
  const match = /^# (.+)$/m.exec(text);
  return match?.[1]?.replaceAll('`', '').trim();
}

/** Code spans in headings as text between <code> tags, so they count for the anchor. */
function codeSpansInHeadingsAsText(parser) {
  parser.core.ruler.push('spane_heading_code', (state) => {
    let inHeading = false;
    for (const token of state.tokens) {
      if (token.type === 'heading_open') inHeading = true;
      else if (token.type === 'heading_close') inHeading = false;
      else if (inHeading && token.type === 'inline' && token.children) {
        token.children = token.children.flatMap((child) => {
          if (child.type !== 'code_inline') return [child];
          const open = new state.Token('html_inline', '', 0);
          open.content = '<code>';
          const text = new state.Token('text', '', 0);
          text.content = child.content;
          const close = new state.Token('html_inline', '', 0);
          close.content = '</code>';
          return [open, text, close];
        });
      }
    }
  });
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  // Set once the options are read (typedoc resets them after loading plugins).
  app.on(Application.EVENT_BOOTSTRAP_END, () => app.options.setValue('markdownItLoader', codeSpansInHeadingsAsText));

  // Titles are set once the pages have their addresses, which come from the file names.
  const titles = new Map();
  app.renderer.on(
    Renderer.EVENT_BEGIN,
    () => {
      for (const [document, title] of titles) document.name = title;
    },
    -100,
  );

  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project;
    // A guide left out of typedoc.json's `projectDocuments` would be copied as a raw file, silently.
    const listed = new Set((project.documents ?? []).map((document) => document.name));
    for (const file of readdirSync('docs').filter((name) => name.endsWith('.md'))) {
      if (!listed.has(file.slice(0, -3))) app.logger.warn(`typedoc-categories: docs/${file} is not in typedoc.json's projectDocuments`);
    }
    for (const reflection of project.childrenIncludingDocuments ?? []) {
      if (reflection.isDocument()) {
        const category = DOCUMENT_RULES[reflection.name];
        if (category === undefined) {
          app.logger.warn(`typedoc-categories: no category for the guide docs/${reflection.name}.md`);
        } else if (!('category' in reflection.frontmatter)) {
          reflection.frontmatter.category = category;
        }
        const title = headingOf(reflection);
        if (title !== undefined && !('title' in reflection.frontmatter)) titles.set(reflection, title);
        continue;
      }
      if (hasCategory(reflection)) continue;
      const path = project.getSymbolIdFromReflection(reflection)?.packagePath ?? '';
      const category = NAME_RULES[reflection.name] ?? categoryOfSource(path);
      const comment = commentOf(reflection);
      if (category === undefined || comment === undefined) {
        app.logger.warn(`typedoc-categories: no category for ${reflection.name} (${path || 'unknown file'})`);
        continue;
      }
      comment.blockTags.push(new CommentTag('@category', [{ kind: 'text', text: category }]));
    }
  });
}
