/**
 * The UserError a call throws, for tests of bad input: the message and field the user would see. Any other
 * exception propagates (a crash is not a user error), and returning normally fails the test.
 */
import { isUserError, type UserError } from "../sim/errors.ts";

export function userErrorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
  throw new Error("expected a UserError");
}
