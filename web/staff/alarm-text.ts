import type { ErrorCode } from '../shared/error-code.js';

/** What an alarm means and what staff do about it, in the console's language. */
export interface AlarmWords {
  readonly what: string;
  readonly todo: string;
}

/**
 * The alarms the box and the fleet raise, in German, for the staff console and the monitor. The
 * box's own text of an alarm (`Alarm.text`) is written for logs and integrations, in English, and
 * carries the particulars (attempts, device codes): the console shows it below, marked as English.
 * Keyed by catalog code, so a code the catalog renames fails `npm run typecheck`.
 */
const WORDS: Partial<Record<ErrorCode, AlarmWords>> = {
  DOOR_FORCED: {
    what: 'Eine Fachtür wurde ohne Entriegelung geöffnet.',
    todo: 'Fach ansehen: Liegt das Dokument noch darin? Tür schließen und den Vorfall melden.',
  },
  DOOR_LEFT_OPEN: { what: 'Eine Fachtür steht seit über einer Minute offen.', todo: 'Tür schließen; der Alarm endet dann von selbst.' },
  UNLOCK_INTERRUPTED: {
    what: 'Eine Entriegelung wurde durch einen Neustart oder Stromausfall unterbrochen; ob die Tür aufging, ist unbekannt.',
    todo: 'Fach öffnen und prüfen, ob das Dokument noch darin liegt. Die Box wiederholt die Entriegelung nicht.',
  },
  LOCK_JAMMED: {
    what: 'Ein Schloss wurde wiederholt entriegelt, die Tür hat sich nie bewegt. Das Fach ist außer Betrieb.',
    todo: 'Schloss und Tür prüfen, dann die Störung des Fachs zurücksetzen.',
  },
  LOCK_FAILED: { what: 'Ein Schloss hat nicht entriegelt. Das Fach ist außer Betrieb.', todo: 'Schloss und Verkabelung prüfen, dann die Störung des Fachs zurücksetzen.' },
  BOARD_MISSING: {
    what: 'Eine Schlossplatine antwortet nicht. Ihre Fächer sind außer Betrieb.',
    todo: 'Platine, Kabel und Stromversorgung prüfen. Die Fächer sind wieder da, sobald die Platine antwortet.',
  },
  BOARD_FAULT: {
    what: 'Eine Schlossplatine meldet einen Fehler. Ihre Fächer sind außer Betrieb.',
    todo: 'Platine, Kabel und Stromversorgung prüfen. Die Fächer sind wieder da, sobald die Platine antwortet.',
  },
  SHREDDER_JAM: {
    what: 'Der Schredder ist verklemmt; eine Karte kann darin stecken. Der Kartenschlitz ist geschlossen.',
    todo: 'Schredder freimachen, eine steckende Karte vernichten, dann die Störung zurücksetzen.',
  },
  SHREDDER_BIN_FULL: { what: 'Der Auffangbehälter des Schredders ist voll. Der Kartenschlitz ist geschlossen.', todo: 'Behälter leeren, dann die Störung zurücksetzen.' },
  SHREDDER_FAULT: {
    what: 'Der Schredder ist mitten in einer Karte ausgefallen; die Karte ist in der Box. Der Kartenschlitz ist geschlossen.',
    todo: 'Schredder prüfen, die Karte entnehmen und vernichten.',
  },
  READER_TRANSFER_FAILED: {
    what: 'Der Kartenleser konnte eine geprüfte Karte nicht an den Schredder weitergeben. Der Leser ist abgeschaltet.',
    todo: 'Leser öffnen, die Karte entnehmen und vernichten.',
  },
  READER_DISCONNECTED: {
    what: 'Der Kartenleser ist nicht verbunden. Am Terminal geht nur der Weg über das Geburtsdatum.',
    todo: 'Kabel und Stromversorgung des Lesers prüfen.',
  },
  READER_UNAVAILABLE: {
    what: 'Der Kartenleser ließ sich beim Start nicht öffnen. Am Terminal geht nur der Weg über das Geburtsdatum.',
    todo: 'Kabel und Stromversorgung des Lesers prüfen, dann die Box neu starten.',
  },
  DEVICE_UNAVAILABLE: { what: 'Ein Gerät der Box antwortet nicht.', todo: 'Gerät prüfen; der Rest der Box arbeitet weiter.' },
  PICKUP_LOCKED: {
    what: 'Eine Abholung ist nach zu vielen falschen Eingaben gesperrt.',
    todo: 'Identität der Person prüfen, dann eine neue PIN ausstellen.',
  },
  PICKUP_EXPIRED: {
    what: 'Die Abholfrist ist abgelaufen; die Person wurde per SMS informiert.',
    todo: 'Dokument aus dem Fach nehmen und zum Schalter bringen.',
  },
  RETRIEVAL_NEEDED: { what: 'Eine stornierte Abholung liegt noch in einem Fach.', todo: 'Dokument aus dem Fach nehmen.' },
  OCCUPANCY_MISMATCH: {
    what: 'Fach und Abholverzeichnis der Box sind sich uneinig, was im Fach liegt. Das Fach wird nicht vergeben.',
    todo: 'Fach öffnen und den Inhalt prüfen.',
  },
  SMS_UNDELIVERABLE: {
    what: 'Eine SMS ließ sich wiederholt nicht zustellen; die Box versucht es weiter.',
    todo: 'SMS-Zugang prüfen. Stimmt die Nummer nicht, die Person auf anderem Weg benachrichtigen.',
  },
  ROOM_DOOR_FORCED: { what: 'Die Raumtür wurde geöffnet, während sie verriegelt war.', todo: 'Raum prüfen.' },
  ROOM_DOOR_HELD_OPEN: { what: 'Die Raumtür steht außerhalb der Öffnungszeit zu lange offen.', todo: 'Tür schließen; der Alarm endet dann von selbst.' },
  ACTOR_FAILED: {
    what: 'Ein Teil der Box ist wiederholt ausgefallen und wurde angehalten. Der Rest der Box arbeitet weiter.',
    todo: 'Ursache beheben (Gerät, Kabel, Speicher), dann „Wieder in Betrieb nehmen“.',
  },
  PICKUP_FAILED: {
    what: 'Die Bearbeitung dieser einen Abholung ist wiederholt abgestürzt; sie wurde aus dem Betrieb genommen.',
    todo: 'Dokument am Schalter ausgeben. Nach der Klärung die Quarantäne aufheben.',
  },
  STORAGE_UNAVAILABLE: {
    what: 'Die Box kann nicht in ihren Speicher schreiben. Neue Vorgänge werden abgelehnt.',
    todo: 'Speicherplatz und Datenträger prüfen; die Box nimmt die Arbeit von selbst wieder auf.',
  },
  STORAGE_NOT_DURABLE: {
    what: 'Der Redis-Server sichert nicht jede Änderung sofort; ein Neustart von Redis kann Vorgänge verlieren.',
    todo: 'Redis mit appendonly und appendfsync always betreiben.',
  },
  BOX_SILENT: { what: 'Eine Box hat sich länger nicht gemeldet.', todo: 'Netz und Stromversorgung der Box prüfen.' },
  WEBHOOK_UNDELIVERABLE: {
    what: 'Eine Benachrichtigung an ein Fachverfahren ließ sich wiederholt nicht zustellen; sie wird weiter versucht.',
    todo: 'Erreichbarkeit des Fachverfahrens prüfen.',
  },
};

/** The German words for an alarm's code, or null for one without (the box's own text stands alone then). */
export function alarmWords(code: string): AlarmWords | null {
  return Object.hasOwn(WORDS, code) ? WORDS[code as ErrorCode]! : null;
}

/**
 * An alarm's severity as the console shows it, sign and word (the signs are in the fonts a
 * Debian box has: DejaVu Sans). An unknown severity reads as a note.
 */
export function severityWords(severity: string): string {
  if (severity === 'critical') return '⚠ kritisch';
  if (severity === 'warning') return '⚠ Warnung';
  return 'ℹ Hinweis';
}

const SEVERITY_RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** The order staff see open alarms in: critical first, then warnings, then notes; within each, the newest first. */
export function byUrgency<A extends { severity: string; raisedAt: string }>(alarms: readonly A[]): A[] {
  const rank = (a: A) => SEVERITY_RANK[a.severity] ?? 2;
  return [...alarms].sort((a, b) => rank(a) - rank(b) || b.raisedAt.localeCompare(a.raisedAt));
}
