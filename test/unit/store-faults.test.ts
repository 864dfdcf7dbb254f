/**
 * How DrizzleStore translates driver errors (src/store/drizzle/faults.ts): which are outages
 * (StoreUnavailableError), which are bugs (DatabaseError), and that neither keeps the statement's
 * parameters. The errors are built the way drizzle and the drivers build them; the end-to-end
 * outage is test/integration/postgres-outage.test.ts.
 */
import { inspect } from 'node:util';
import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ExecutionNotFoundError, StoreUnavailableError } from '../../src/index.js';
import { DatabaseError, storeError } from '../../src/store/drizzle/faults.js';

const SECRET = 'sk_live_SECRET123';

/** A driver error as postgres.js or PGlite throws it, wrapped by drizzle with the parameters. */
function wrapped(code: string, message: string, extra: Record<string, unknown> = {}): DrizzleQueryError {
  const driver = Object.assign(new Error(message), { code, params: [SECRET], query: 'insert ...' }, extra);
  return new DrizzleQueryError('insert into "spane"."node_results" select ... from json_array_elements($1::json)', [JSON.stringify({ apiKey: SECRET })], driver);
}

const rendered = (err: unknown) => inspect(err, { depth: 8, showHidden: true }) + JSON.stringify(err);

describe('storeError', () => {
  it.each([
    ['57P01', 'terminating connection due to administrator command'],
    ['08006', 'connection failure'],
    ['53300', 'sorry, too many clients already'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'],
    ['CONNECTION_CLOSED', 'write CONNECTION_CLOSED 127.0.0.1:5432'],
  ])('makes %s a StoreUnavailableError naming the operation, execution and code, without parameters', (code, message) => {
    const err = storeError(wrapped(code, message), 'saveNodeResult', 'e1');
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err.message).toContain('saveNodeResult');
    expect(err.message).toContain("'e1'");
    expect(err.message).toContain(code);
    expect(rendered(err)).not.toContain(SECRET);
    expect(err.cause).toBeInstanceOf(DatabaseError);
  });

  it('treats a closed PGlite as unavailable', () => {
    expect(storeError(new DrizzleQueryError('select 1', [SECRET], new Error('PGlite is closed')), 'getExecution', 'e1')).toBeInstanceOf(StoreUnavailableError);
  });

  it('keeps a constraint violation a DatabaseError with its SQLSTATE and message, without parameters', () => {
    const err = storeError(wrapped('23505', 'duplicate key value violates unique constraint "workflows_pkey"', { detail: `Key (id)=(${SECRET}) already exists.` }), 'saveWorkflow');
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err).toMatchObject({ code: '23505', cause: { code: '23505' } });
    expect(err.message).toContain('workflows_pkey');
    expect(rendered(err)).not.toContain(SECRET);
  });

  it('drops the server message of a data exception, which quotes the refused value', () => {
    const err = storeError(wrapped('22P02', `invalid input syntax for type json: "${SECRET}"`), 'putPayload', 'e1');
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err.message).toContain('22P02');
    expect(rendered(err)).not.toContain(SECRET);
  });

  it("strips drizzle's wrapper even when the driver error has no code", () => {
    const err = storeError(new DrizzleQueryError('select $1', [SECRET], new Error('something odd')), 'getLogs', 'e1');
    expect(rendered(err)).not.toContain(SECRET);
  });

  it("leaves SPANE's own errors and plain programming errors as they are", () => {
    const notFound = new ExecutionNotFoundError('e1');
    expect(storeError(notFound, 'saveNodeResult', 'e1')).toBe(notFound);
    const bug = new TypeError('x is not a function');
    expect(storeError(bug, 'getExecution', 'e1')).toBe(bug);
  });
});
