/**
 * The values the command's options accept (a module of its own: the parser needs them without
 * loading the commands).
 *
 * @module
 */

/** The queue backends `--backend` accepts. */
export const BACKENDS = ['embedded', 'redis', 'postgres'] as const;
/** One of {@link BACKENDS}. */
export type CliBackend = (typeof BACKENDS)[number];

/** Output formats of `spane graph`. */
export const GRAPH_FORMATS = ['mermaid', 'json'] as const;
/** One of {@link GRAPH_FORMATS}. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];
