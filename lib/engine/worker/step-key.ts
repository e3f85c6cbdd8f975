import { GoTickError, InvalidStepError } from '../../common/errors';

/** Step keys are hash fields and appear in every view: long enough for any real name, short enough to stay cheap. */
const MAX_STEP_KEY = 512;

/** In a /u regex a surrogate range matches only unpaired halves: text cut in the middle of an emoji. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** What is wrong with a step key, or undefined when it can be used (uniqueness is the execution's to check). */
export function stepKeyProblem(key: unknown, flowId: string): Error | undefined {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_STEP_KEY) {
    const shown = typeof key === 'string' && key.length > 60 ? `a ${key.length}-character string` : JSON.stringify(key);
    return new GoTickError(`Step keys must be strings of 1-${MAX_STEP_KEY} characters; got ${shown} in flow "${flowId}".`);
  }
  // A lone surrogate would be stored as U+FFFD and never match on replay.
  if (LONE_SURROGATE.test(key)) {
    return new InvalidStepError(
      `Step key ${JSON.stringify(key)} in flow "${flowId}" holds a lone UTF-16 surrogate (text cut in the middle of a character, ` +
        'e.g. an emoji sliced with substring): it could not be matched on replay. Cut text by code points, or use an id in the key.',
    );
  }
  return undefined;
}
