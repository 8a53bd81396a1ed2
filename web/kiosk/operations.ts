// Every GraphQL operation the panel sends. Nothing else is ever sent from this page: these are the
// documents a production box may pin as the kiosk's only allowed operations.

const SESSION = 'id revision step error retryAt oldIdPossible compartmentId outcome expiresAt warning extensionsLeft pinRequested';

export const OPERATIONS = {
  Panel: `query Panel { kioskPanel { kioskId now openNow nextOpening hours location readerAvailable shredderState front { id column row size accessible } } }`,
  Devices: `query Devices { kioskPanel { now readerAvailable shredderState } }`,
  Session: `query Session($id: ID!) { session(id: $id) { ${SESSION} } }`,
  StartSession: `mutation StartSession { startSession { ${SESSION} } }`,
  EnterPhone: `mutation EnterPhone($sessionId: ID!, $phone: String!) { enterPhone(sessionId: $sessionId, phone: $phone) { ${SESSION} } }`,
  EnterPin: `mutation EnterPin($sessionId: ID!, $pin: String!) { enterPin(sessionId: $sessionId, pin: $pin) { ${SESSION} } }`,
  ChooseFactor: `mutation ChooseFactor($sessionId: ID!, $factor: SecondFactor!) { chooseFactor(sessionId: $sessionId, factor: $factor) { ${SESSION} } }`,
  EnterBirthDate: `mutation EnterBirthDate($sessionId: ID!, $birthDate: String!) { enterBirthDate(sessionId: $sessionId, birthDate: $birthDate) { ${SESSION} } }`,
  ExtendSession: `mutation ExtendSession($sessionId: ID!) { extendSession(sessionId: $sessionId) { ${SESSION} } }`,
  RequestNewPin: `mutation RequestNewPin($sessionId: ID!, $phone: String!) { requestNewPin(sessionId: $sessionId, phone: $phone) { ${SESSION} } }`,
  CancelSession: `mutation CancelSession($sessionId: ID!) { cancelSession(sessionId: $sessionId) { ${SESSION} } }`,
  SessionChanged: `subscription SessionChanged($sessionId: ID!) { sessionChanged(sessionId: $sessionId) { ${SESSION} } }`,
} as const;

export type OperationName = keyof typeof OPERATIONS;
