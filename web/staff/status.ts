/** A pickup's status as staff read it. */
const STATUS_TEXT: Record<string, string> = {
  REGISTERED: 'angemeldet',
  LOADING: 'wird beladen',
  READY: 'abholbereit',
  RELEASING: 'wird abgeholt',
  COLLECTED: 'abgeholt',
  LOCKED: 'gesperrt (PIN)',
  EXPIRED: 'Frist abgelaufen',
  RETURNED: 'zurück am Schalter',
  CANCELLED: 'storniert',
};

/** `status` in staff's words; a status this table does not know stays as the box sent it. */
export const statusText = (status: string): string => STATUS_TEXT[status] ?? status;
