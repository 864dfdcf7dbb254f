/**
 * The zod that SPANE found is not one it works with: the installed `zod` package is older than
 * zod 4, or a schema handed to the DSL comes from zod 3 (or is not a zod schema at all).
 *
 * @module
 */
import { InvalidArgumentError } from './common.js';
import { brand } from './brand.js';

/** What to run to get a zod SPANE works with, named by every {@link ZodVersionError}. */
const ZOD_INSTALL_HINT = 'npm install zod@^4';

/**
 * zod is a peer dependency of SPANE (`^4`): the project installs it, and SPANE and the project's
 * schemas share that one copy. This error says the copy is not zod 4, either when SPANE is
 * imported (the `zod` package that resolves is zod 3 or older) or when the DSL receives a schema
 * (`defineNode` config/input/output, `workflow` input, `transform`/`router` schemas,
 * `defineHttpNode`) that is a zod 3 schema or no zod schema. An {@link InvalidArgumentError}
 * with its own code; the message names what to install.
 */
export class ZodVersionError extends InvalidArgumentError {
  static {
    brand(this, 'ZodVersionError');
  }

  override readonly code = 'ZOD_UNSUPPORTED' as const;
  /** What was found instead of zod 4: `zod 3 or older`, `a zod 3 schema`, `a function`, ... */
  readonly found: string;
  /** Where it was found: `import of spane`, `defineNode('fetch-user') input`, ... */
  readonly where: string;
  constructor(where: string, found: string) {
    super(`${where}: SPANE needs zod 4, found ${found}. zod is a peer dependency of spane: run \`${ZOD_INSTALL_HINT}\` and build schemas with \`import { z } from 'zod'\`.`);
    this.found = found;
    this.where = where;
  }
}
