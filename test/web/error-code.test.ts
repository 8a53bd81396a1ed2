import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorCodeOf } from '../../web/shared/error-code.js';
import { BoxError, codeOfProblem, problemText } from '../../web/staff/api.js';

// Where a GraphQL error's code enters the pages, and how the staff console words a failure.

test('a GraphQL error\'s code is read as the catalog code; one without a code (a lost connection) reads as INTERNAL', () => {
  assert.is(errorCodeOf({ extensions: { code: 'PICKUP_FAILED' } }), 'PICKUP_FAILED');
  assert.is(errorCodeOf({ extensions: {} }), 'INTERNAL');
  assert.is(errorCodeOf({ extensions: { code: 42 } }), 'INTERNAL');
  assert.is(errorCodeOf({}), 'INTERNAL');
  assert.is(errorCodeOf(undefined), 'INTERNAL');
});

test('the staff console words a failure with its message and catalog code, INTERNAL for anything but a box error', () => {
  assert.is(problemText(new BoxError('PICKUP_NOT_FOUND', 'no pickup V-1')), 'no pickup V-1 (PICKUP_NOT_FOUND)');
  assert.is(problemText(new Error('socket closed')), 'socket closed (INTERNAL)');
  assert.is(codeOfProblem(new BoxError('FORBIDDEN', 'no')), 'FORBIDDEN');
  assert.is(codeOfProblem(new TypeError('x')), 'INTERNAL');
});

test.run();
