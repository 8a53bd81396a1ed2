/**
 * The one catalog of domain error codes. Codes are stable API: GraphQL clients, integrations and
 * the README table depend on them, so a code is never renamed or reused with another meaning.
 *
 * Messages and details must stay pseudonymous: never put a phone number, PIN, birth date or
 * document number into them, because errors end up in logs.
 */

export interface ErrorInfo {
  /** What went wrong, in one sentence. */
  readonly meaning: string;
  /** What the caller (citizen, staff, integration or operator) should do about it. */
  readonly action: string;
}

export const ERRORS = {
  INVALID_PHONE: {
    meaning: 'The phone number cannot be parsed or is not a valid number.',
    action: 'Check the number; give it in international form (+49 …) or as a German number.',
  },
  NOT_A_MOBILE: {
    meaning: 'The phone number is valid but not a mobile number, so it cannot receive the PIN by SMS.',
    action: 'Register a mobile number (in Germany 015x, 016x or 017x).',
  },
  INVALID_BIRTH_DATE: {
    meaning: 'The birth date is malformed, impossible, in the future or more than 130 years ago.',
    action: 'Enter the birth date as DD.MM.YYYY (or YYYY-MM-DD for integrations).',
  },
  INVALID_DOCUMENT_NUMBER: {
    meaning: 'The document number does not have the format of a German ID card or passport number.',
    action: 'Enter the 9-character number (digits and C F G H J K L M N P R T V W X Y Z) or, for a temporary document, one letter and seven digits.',
  },
  INVALID_MRZ: {
    meaning: 'The machine-readable zone read from a card is malformed or a check digit does not match.',
    action: 'Let the citizen reinsert the card; if it keeps failing, fall back to the birth date.',
  },
  INVALID_OPENING_HOURS: {
    meaning: 'The opening-hours configuration is invalid (time format, order, overlap, weekday or time zone).',
    action: 'Fix the opening hours in the configuration; the message names the offending entry.',
  },
  INVALID_REFERENCE: {
    meaning: 'The pickup reference (Vorgangsnummer) is empty or has characters that are not allowed.',
    action: 'Send the reference exactly as the registry software issued it.',
  },
  INVALID_DOCUMENT_KIND: {
    meaning: 'The document kind is not one the box hands out.',
    action: 'Use one of the documented document kinds (ID card, passport, children\'s passport, residence permit, temporary document).',
  },
  INVALID_PIN_FORMAT: {
    meaning: 'The PIN is not exactly six digits.',
    action: 'Enter the six-digit PIN from the SMS.',
  },
  PICKUP_NOT_FOUND: {
    meaning: 'No pickup exists for this reference.',
    action: 'Check the reference; the pickup may have been cancelled or already collected.',
  },
  PICKUP_EXISTS: {
    meaning: 'A pickup with this reference is already registered.',
    action: 'Do not register it again; query its state instead.',
  },
  PICKUP_WRONG_STATE: {
    meaning: 'The pickup is not in a state that allows this operation.',
    action: 'Query the pickup state and perform the operation that fits it.',
  },
  NO_FITTING_COMPARTMENT: {
    meaning: 'No free compartment of the required size (or accessible height) is available.',
    action: 'Retrieve expired documents or free a compartment, then load again; otherwise hand the document out at the counter.',
  },
  COMPARTMENT_NOT_FOUND: {
    meaning: 'No compartment with this id exists in the box layout.',
    action: 'Check the compartment id against the configured layout.',
  },
  COMPARTMENT_BUSY: {
    meaning: 'The compartment is occupied, opening, faulty or out of service.',
    action: 'Wait for the current operation to finish or choose another compartment; staff can clear faults.',
  },
  BOX_CLOSED: {
    meaning: 'The box is outside its opening hours.',
    action: 'Come back during the opening hours shown on the panel.',
  },
  KIOSK_BUSY: {
    meaning: 'Another session is already running on this kiosk.',
    action: 'Wait until the current session has finished or timed out.',
  },
  SESSION_NOT_FOUND: {
    meaning: 'The kiosk session does not exist or has ended (for example after a timeout).',
    action: 'Start a new session.',
  },
  SESSION_WRONG_STEP: {
    meaning: 'The input does not belong to the session\'s current step.',
    action: 'Follow the steps on the panel in order; start over if unsure.',
  },
  AUTH_FAILED: {
    meaning: 'The combination of phone number, PIN and identity check did not match.',
    action: 'Check the SMS and try again; after several failures the pickup is locked.',
  },
  AUTH_THROTTLED: {
    meaning: 'Too many failed attempts from this number or kiosk; further attempts are delayed.',
    action: 'Wait the indicated time before trying again.',
  },
  PICKUP_LOCKED: {
    meaning: 'The pickup is locked after too many wrong PINs.',
    action: 'Contact the citizens\' office; staff must reissue a PIN.',
  },
  DEVICE_UNAVAILABLE: {
    meaning: 'A device (lock board, card reader, shredder) is not responding or out of service.',
    action: 'Staff should check the device and the alarms; the rest of the box keeps working.',
  },
  FORBIDDEN: {
    meaning: 'The caller\'s role does not allow this operation.',
    action: 'Use a token with the required role.',
  },
  UNAUTHENTICATED: {
    meaning: 'No valid access token was presented.',
    action: 'Send a valid token from the configuration in the Authorization header.',
  },
  INVALID_CONFIG: {
    meaning: 'The configuration is invalid; the box does not start.',
    action: 'Fix the configuration entry named in the message and restart.',
  },
  OLD_ID_MISMATCH: {
    meaning: 'The inserted old ID card is not the one registered for this pickup; it was given back.',
    action: 'Take the card back and enter the birth date instead.',
  },
  BIRTH_DATE_MISMATCH: {
    meaning: 'The birth date does not match the pickup; the attempt was counted.',
    action: 'Enter the birth date again; after 5 failed attempts the pickup is locked.',
  },
  PICKUP_BUSY: {
    meaning: 'The pickup is being opened right now: a panel session is collecting it (its door is being released), or staff is taking it out of the box.',
    action: 'Wait a minute and start again, or ask staff; staff retrieve or cancel it once that door is closed again.',
  },
  CARD_UNAVAILABLE: {
    meaning: 'The card reader or shredder is out of order, so no old ID card can be taken now.',
    action: 'Enter the birth date instead; staff should check the shredder.',
  },
  SESSION_TIMEOUT: {
    meaning: 'The session ended after 60 seconds without input; nothing was opened.',
    action: 'Start again at the panel.',
  },
  DOOR_NOT_OPENED: {
    meaning: 'The compartment was unlocked but not opened within 30 seconds; it locked again and the document is still inside.',
    action: 'Start again and pull the door as soon as it clicks.',
  },
  INTERRUPTED: {
    meaning: 'The box restarted during the session; the session was ended safely.',
    action: 'Start again at the panel.',
  },
  ALARM_NOT_FOUND: {
    meaning: 'No open alarm has this id (it may have been acknowledged already).',
    action: 'Reload the list of alarms.',
  },
  DOOR_FORCED: {
    meaning: 'A compartment door opened without an unlock (alarm code).',
    action: 'Check the compartment and its contents, then clear the fault.',
  },
  DOOR_LEFT_OPEN: {
    meaning: 'A compartment door has been open for more than 60 seconds (alarm code).',
    action: 'Close the door; the alarm clears itself.',
  },
  UNLOCK_INTERRUPTED: {
    meaning: 'An unlock was interrupted by a crash or power cut and its outcome is unknown (alarm code); the box never retries it.',
    action: 'Check the compartment, then clear the fault.',
  },
  SHREDDER_JAM: {
    meaning: 'The shredder jammed (alarm code); a card may be inside, and the card slot is closed.',
    action: 'Clear the jam, destroy a retained card by hand, then clear the shredder.',
  },
  SHREDDER_BIN_FULL: {
    meaning: 'The shredder bin is full (alarm code); the card slot is closed.',
    action: 'Empty the bin and clear the shredder.',
  },
  SHREDDER_FAULT: {
    meaning: 'The shredder\'s driver failed in the middle of a card (its expander board or bus) (alarm code); the card is inside and the card slot is closed.',
    action: 'Check the shredder\'s board and wiring, destroy the card by hand, then clear the shredder.',
  },
  NOT_A_DOOR_PANEL: {
    meaning: 'The panel is not the outside panel of an after-hours room (layout roomDoor.panel), so it opens no door.',
    action: 'Send room entries from the door panel named in the layout.',
  },
  ROOM_DOOR_FORCED: {
    meaning: 'The after-hours room door opened while it was locked (alarm code).',
    action: 'Check the room and the door; acknowledge the alarm.',
  },
  ROOM_DOOR_HELD_OPEN: {
    meaning: 'After hours, the room door stood open longer than roomDoor.heldOpenMs (alarm code); it clears when the door closes.',
    action: 'Close the room door; check that nobody props it open.',
  },
  SMS_UNDELIVERABLE: {
    meaning: 'An SMS failed repeatedly (alarm code); the outbox keeps retrying with backoff.',
    action: 'Check the SMS gateway and its credentials.',
  },
  ACTOR_FAILED: {
    meaning: 'An actor (a compartment, a device or a box-wide one such as the registry) kept failing and was stopped (alarm code, health fails); requests to it are refused with this code and the rest of the box works where it can. It stays stopped across restarts.',
    action: 'Check the device and the log; after repair take it back into operation (staff console: "Wieder in Betrieb nehmen" on the alarm; or the staff mutation reviveActor).',
  },
  ACTOR_NOT_FAILED: {
    meaning: 'The actor named has not failed: there is nothing to take back into operation.',
    action: 'Check the open ACTOR_FAILED alarms for the actor to revive; it may have been revived already.',
  },
  PICKUP_FAILED: {
    meaning: 'Handling this one pickup kept crashing the box (e.g. a damaged stored record), so it was taken out of operation alone (alarm code, health degraded); its requests are refused with this code, its timers wait, every other pickup is served.',
    action: 'Keep the log and have the cause repaired (a fixed version or stored record); then lift the quarantine (staff console: "Quarantäne aufheben" on the alarm; or the staff mutation liftPickupQuarantine), retrieve the document and hand it out at the counter. Until then the pickup stays refused, also across restarts, and its compartment stays locked.',
  },
  OCCUPANCY_MISMATCH: {
    meaning: 'After a restart or an unseen opening, a compartment and the registry disagree on what it holds (alarm code); the compartment is not given to another pickup.',
    action: 'Look into the compartment; then retrieve or cancel the pickup the alarm names, and acknowledge the alarm.',
  },
  STORAGE_UNAVAILABLE: {
    meaning: 'The box could not commit to its storage (disk full, I/O error, Redis down); nothing was changed and new work is refused until storage is back.',
    action: 'Free disk space or bring the storage back; the box resumes by itself. Retry the request then; /health reports the state.',
  },
  STORAGE_DAMAGED: {
    meaning: 'The database failed its integrity check at start; the box refuses to start on it.',
    action: 'Stop the box, keep the damaged file for analysis, restore the last backup (or recover with `sqlite3 box.sqlite ".recover"`), run `npm run audit:verify`, then start again.',
  },
  STORAGE_NOT_DURABLE: {
    meaning: 'The Redis server does not persist every write (appendonly is off or appendfsync is not always); a Redis restart would lose committed state.',
    action: 'Start Redis with --appendonly yes --appendfsync always, or set storageAllowNonDurable: true if you accept the risk.',
  },
  PICKUP_EXPIRED: {
    meaning: 'The pickup window ended (alarm code); the citizen was told by SMS.',
    action: 'Retrieve the document from its compartment and take it to the counter.',
  },
  RETRIEVAL_NEEDED: {
    meaning: 'A cancelled pickup still lies in a compartment (alarm code).',
    action: 'Retrieve it.',
  },
  LOCK_JAMMED: {
    meaning: 'A lock was pulsed twice and its door never moved (alarm code); the compartment is taken out of use.',
    action: 'Check the bolt and the solenoid, then clear the fault.',
  },
  BOARD_MISSING: {
    meaning: 'A lock board does not answer on its I2C address (alarm code); its compartments are out of service until it is back.',
    action: 'Check the board\'s cable, power and address jumpers; it comes back by itself.',
  },
  I2C_NACK: {
    meaning: 'A lock board kept refusing bus transfers after retries (alarm code); its compartments are out of service until it recovers.',
    action: 'Check the bus wiring and pull-ups; the board is retried with backoff.',
  },
  I2C_TIMEOUT: {
    meaning: 'The I2C bus kept timing out (alarm code); the board\'s compartments are out of service until it recovers.',
    action: 'Check the bus for a device holding SDA low; the board is retried with backoff.',
  },
  BOARD_FAULT: {
    meaning: 'A lock board failed (alarm code).',
    action: 'Check the board; it comes back by itself once it answers again.',
  },
  QUERY_TOO_COMPLEX: {
    meaning: 'The GraphQL operation is over a limit: more than one panel input, too many aliases, too deep, too costly or too long.',
    action: 'Send one panel input per request and smaller queries.',
  },
  BAD_USER_INPUT: {
    meaning: 'A GraphQL argument is malformed (a cursor, a page size, JSON).',
    action: 'Fix the argument named in the message.',
  },
  HARNESS_UNSUPPORTED: {
    meaning: 'A harness operation needs simulated hardware or a simulated clock, and this box runs on real ones.',
    action: 'Use the harness against a box started with simulated hardware.',
  },
  OUT_OF_SERVICE: {
    meaning: 'Staff took the compartment out of service; it is not assigned or opened for pickups.',
    action: 'Put it back into service when it is fit again.',
  },
  LOCK_FAILED: {
    meaning: 'The lock driver failed without a more specific code (alarm code).',
    action: 'Check the lock and the log, then clear the fault.',
  },
  LOCK_COOLDOWN: {
    meaning: 'A lock refused a pulse while cooling down from the last one; the box pulses again shortly by itself.',
    action: 'Nothing, unless it repeats: then check the lock timing in the layout.',
  },
  CARD_UNREADABLE: {
    meaning: 'The card reader could not read the inserted card; it was given back.',
    action: 'Insert the card again the right way round, or enter the birth date.',
  },
  READER_TRANSFER_FAILED: {
    meaning: 'The reader could not move a verified card to the shredder (alarm code); the reader is disabled.',
    action: 'Open the reader, take the card out and destroy it by hand; check the mechanism.',
  },
  READER_DISCONNECTED: {
    meaning: 'The serial line to the card reader went away (unplugged, cable, power) (alarm code); the panel offers only the birth date until it is back.',
    action: 'Check the reader\'s cable and power; the box reconnects by itself and clears the alarm. A card left in the slot must be taken out by hand.',
  },
  READER_UNAVAILABLE: {
    meaning: 'The card reader\'s serial device could not be opened at start (alarm code); the panel offers only the birth date.',
    action: 'Check the device path and permissions in the layout (reader.path) and that the reader is plugged in; the box keeps trying.',
  },
  SMS_GATEWAY_UNAVAILABLE: {
    meaning: 'The SMS gateway could not be reached; the outbox retries.',
    action: 'Check the network and the gateway URL.',
  },
  SMS_GATEWAY_TIMEOUT: {
    meaning: 'The SMS gateway did not answer in time; the outbox retries.',
    action: 'Check the gateway; raise its timeout if it is slow but working.',
  },
  REQUEST_TOO_LARGE: {
    meaning: 'The HTTP body or WebSocket message is over 64 KiB (HTTP 413).',
    action: 'Send smaller requests; no operation of this API needs more.',
  },
  BATCH_NOT_SUPPORTED: {
    meaning: 'The request was a JSON array of operations; batches are refused (HTTP 400).',
    action: 'Send one operation per request.',
  },
  BAD_REQUEST: {
    meaning: 'The HTTP body could not be read as a GraphQL request (HTTP 400).',
    action: 'Send a JSON object with "query" (and "variables").',
  },
  METHOD_NOT_ALLOWED: {
    meaning: 'The HTTP method is not served on this path, or a mutation was sent with GET (HTTP 405; `Allow` names the methods).',
    action: 'Send queries with GET or POST and mutations with POST.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    meaning: 'The POST body is not `application/json`; form, multipart and text bodies are refused to prevent cross-site requests (HTTP 415).',
    action: 'Send `Content-Type: application/json` with a JSON body.',
  },
  NOT_ACCEPTABLE: {
    meaning: 'The `Accept` header asks for no media type the server answers with (HTTP 406).',
    action: 'Accept `application/graphql-response+json` or `application/json` (`text/event-stream` for subscriptions on the Yoga server).',
  },
  ORIGIN_NOT_ALLOWED: {
    meaning: 'A browser request or WebSocket came from a page of another origin that is not configured (HTTP 403).',
    action: 'Serve the page from the box, or add its origin to `cors.origins` in the configuration.',
  },
  NOT_FOUND: {
    meaning: 'No route answers on this path (HTTP 404).',
    action: 'The API is at `/graphql`; health at `/health`.',
  },
  GRAPHQL_PARSE_FAILED: {
    meaning: 'The GraphQL document has a syntax error.',
    action: 'Fix the query text at the position named in the message.',
  },
  PERSISTED_DOCUMENT_REQUIRED: {
    meaning: 'A production box runs only persisted documents (the operations its panel page was built with) from the kiosk role; a query text was sent instead (HTTP 400).',
    action: 'Send the document id (`sha256:…`, as `documentId` or in place of the query); the page does this by itself after `npm run build:web`.',
  },
  PERSISTED_DOCUMENT_NOT_FOUND: {
    meaning: 'No persisted document has this id: the page and the box were built from different versions (HTTP 400).',
    action: 'Rebuild the pages (`npm run build:web`, or restart with `npm start`) and reload the panel.',
  },
  GRAPHQL_VALIDATION_FAILED: {
    meaning: 'The GraphQL document does not fit the schema (unknown field, wrong argument type).',
    action: 'Check the operation against schema.graphql.',
  },
  COMMAND_EXPIRED: {
    meaning: 'A fleet command reached its box after its expiry time (the box was offline too long); the box did not run it.',
    action: 'Check the box and send the command again if it is still wanted.',
  },
  COMMAND_INTERRUPTED: {
    meaning: 'The box restarted while running a fleet command that is not safe to repeat (a PIN reissue); it may or may not have run.',
    action: 'Query the pickup at the centre before sending the command again.',
  },
  BOX_UNKNOWN: {
    meaning: 'No box of the fleet has this id (it never connected to the fleet channel).',
    action: 'Check the box id; a box appears once it has connected with its fleet configuration.',
  },
  BOX_SILENT: {
    meaning: 'A box has not been heard from for longer than the configured silence limit (central alarm).',
    action: 'Check the box, its network and its fleet configuration; the alarm clears when it is heard again.',
  },
  WEBHOOK_UNDELIVERABLE: {
    meaning: 'A webhook kept failing (central alarm); its outbox keeps retrying with backoff.',
    action: 'Check the integration\'s endpoint, its TLS certificate and its signing secret.',
  },
  ASK_TIMEOUT: {
    meaning: 'An actor did not answer a request in time (the request may still take effect).',
    action: 'Query the state before retrying; if it repeats, check the log and /health for a stuck or failed actor.',
  },
  ACTOR_NOT_FOUND: {
    meaning: 'A request went to an actor that does not exist or has stopped.',
    action: 'Check the address (compartment, session or kiosk id); a session that ended is gone.',
  },
  ACTOR_CRASHED: {
    meaning: 'The actor crashed while handling the request (or work the request caused) and was restarted from its last committed state.',
    action: 'Query the state and retry once; the log has the crash.',
  },
  MESSAGE_NOT_HANDLED: {
    meaning: 'The actor does not take a message of this type.',
    action: 'Send one of the message types of the actor\'s protocol.',
  },
  INVALID_MESSAGE: {
    meaning: 'An injected message does not fit the target actor\'s message schema (unknown type, missing or mistyped field); it was not delivered.',
    action: 'Fix the message as the error\'s details say.',
  },
  INTERNAL: {
    meaning: 'An unexpected internal error occurred; details are in the server log.',
    action: 'Retry once; if it persists, report it to the operator with the time of the error.',
  },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERRORS;

/** A failure the domain expects and names: bad input, wrong state, denied access. */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** Plain form for GraphQL `extensions`, messages between actors and logs. */
  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `error` is a DomainError (optionally with the given code). */
export function isDomainError(error: unknown, code?: ErrorCode): error is DomainError {
  return error instanceof DomainError && (code === undefined || error.code === code);
}

/** True when `code` is one of the catalog's codes (for codes arriving as strings, e.g. in messages). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERRORS, code);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The catalog as a Markdown table (`| code | meaning | what to do |`) for the README. */
export function errorTableMarkdown(): string {
  const rows = (Object.entries(ERRORS) as Array<[ErrorCode, ErrorInfo]>).map(
    ([code, info]) => `| \`${code}\` | ${cell(info.meaning)} | ${cell(info.action)} |`,
  );
  return ['| code | meaning | what to do |', '| --- | --- | --- |', ...rows].join('\n') + '\n';
}

/** A code from outside the catalog's control (a driver, a thrown error) as a catalog code: itself if known, else `fallback`. */
export function toErrorCode(code: unknown, fallback: ErrorCode): ErrorCode {
  return typeof code === 'string' && isErrorCode(code) ? code : fallback;
}
