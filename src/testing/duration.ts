/**
 * Durations as `advanceTime` takes them: milliseconds, or text such as `'1h'`, `'90s'`, `'1h30m'`.
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * A span of time: milliseconds (a non-negative finite number), or one or more `<number><unit>`
 * parts with units `ms`, `s`, `m`, `h`, `d` and `w` (`'1h'`, `'2.5s'`, `'1d12h'`).
 */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd' | 'w'}` | (string & {});

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** `duration` in milliseconds; refuses anything else with an {@link InvalidArgumentError}. */
export function durationMs(method: string, duration: unknown): number {
  if (typeof duration === 'number') {
    if (Number.isFinite(duration) && duration >= 0) return duration;
    throw new InvalidArgumentError(`${method}: a duration in ms must be a finite number of at least 0, got ${String(duration)}`);
  }
  if (typeof duration !== 'string' || duration.trim() === '')
    throw new InvalidArgumentError(`${method}: the duration must be a number of ms or a string such as '1h', got ${typeof duration}`);
  const text = duration.trim();
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (m === null) {
      PART.lastIndex = at;
      throw new InvalidArgumentError(`${method}: '${text.length > 40 ? `${text.slice(0, 40)}...` : text}' is not a duration (use parts such as '1h', '30m', '10s', '500ms', '2d')`);
    }
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return total;
}
