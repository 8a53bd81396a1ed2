import { DriverError, type SmsGateway, type SmsMessage } from '../ports.js';

export interface HttpSmsGatewayOptions {
  /** the provider's endpoint, e.g. https://sms.example/api/messages */
  url: string;
  /** bearer token for the provider */
  token: string;
  /** sender name or number shown to the citizen */
  sender?: string;
  timeoutMs?: number;
}

/**
 * Sends an SMS as a JSON POST with a bearer token. The message id goes along as the
 * `Idempotency-Key` header and in the body, so a retry after a restart cannot send it twice
 * when the provider honours the key. Any non-2xx answer or a timeout rejects with a DriverError,
 * which the outbox turns into a retry with backoff.
 */
export class HttpSmsGateway implements SmsGateway {
  private readonly timeoutMs: number;

  constructor(private readonly opts: HttpSmsGatewayOptions) {
    if (!/^https?:\/\//.test(opts.url)) throw new DriverError('INVALID_CONFIG', 'sms.url must be an http(s) URL');
    if (!opts.token) throw new DriverError('INVALID_CONFIG', 'sms.token is required');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async send(message: SmsMessage): Promise<{ providerId: string }> {
    let response: Response;
    try {
      response = await fetch(this.opts.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${this.opts.token}`,
          'idempotency-key': message.id,
        },
        body: JSON.stringify({ id: message.id, to: message.to, text: message.text, from: this.opts.sender ?? null }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new DriverError(timedOut ? 'SMS_GATEWAY_TIMEOUT' : 'SMS_GATEWAY_UNAVAILABLE', timedOut ? 'the SMS gateway did not answer in time' : 'the SMS gateway cannot be reached');
    }
    const body = await response.text();
    if (!response.ok) {
      // 4xx other than 408/429 will not get better by retrying, but the outbox retries slowly and alarms.
      throw new DriverError(`SMS_GATEWAY_HTTP_${response.status}`, `the SMS gateway answered ${response.status}`);
    }
    let providerId = message.id;
    try {
      const parsed = JSON.parse(body) as { id?: unknown };
      if (typeof parsed.id === 'string') providerId = parsed.id;
    } catch {
      // a 2xx without JSON is still accepted
    }
    return { providerId };
  }
}
