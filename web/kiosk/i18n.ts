import { IntlMessageFormat } from 'intl-messageformat';
import { LANGUAGES, MESSAGES, type Language, type LanguageId, type MessageKey } from './messages.js';

export type Values = Record<string, string | number | Date>;
export type Translate = (key: MessageKey, values?: Values) => string;

export const languageOf = (id: LanguageId): Language => LANGUAGES.find((l) => l.id === id)!;

const translators = new Map<string, Translate>();

/**
 * A translator for one language: ICU messages through intl-messageformat (plural rules, select,
 * dates and times in that language's conventions, in the box's time zone), compiled once per key.
 * One per language and zone, kept: the panel asks for it on every render and every second.
 */
export function translator(id: LanguageId, timeZone: string): Translate {
  const key = `${id} ${timeZone}`;
  let translate = translators.get(key);
  if (!translate) translators.set(key, (translate = compiledTranslator(id, timeZone)));
  return translate;
}

function compiledTranslator(id: LanguageId, timeZone: string): Translate {
  const language = languageOf(id);
  const formats = {
    date: { full: { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone } },
    time: { short: { hour: '2-digit', minute: '2-digit', timeZone } },
  } as const;
  const compiled = new Map<MessageKey, IntlMessageFormat>();
  return (key, values) => {
    let format = compiled.get(key);
    if (!format) {
      format = new IntlMessageFormat(MESSAGES[id][key], language.tag, formats);
      compiled.set(key, format);
    }
    return String(format.format(values));
  };
}

/**
 * An example of what to type, as a message's `{example}`: it reads left to right, in the order the
 * digits are typed, inside any sentence (an Arabic one included), and never breaks over lines.
 * One way for every language: a left-to-right isolate (U+2066 … U+2069) around groups joined by
 * no-break spaces. Both are plain text, so the screen and the speech get the same string.
 */
export function typedExample(groups: string): string {
  return leftToRight(groups.replace(/ /g, '\u00a0'));
}

/**
 * A text the box brings in its own language (its address, its opening hours), as a message's
 * `{location}` or `{hours}`: it reads left to right as one run inside any sentence (an Arabic one
 * included), the way `typedExample` does, through the same isolate. A long one may break over lines,
 * but only after a comma: each part ("Willi-Becker-Allee 7", "Mo-Di 7:30-16:00") holds together with
 * no-break spaces and a word joiner (U+2060) after each hyphen. Plain text, for screen and speech.
 */
export function boxText(text: string): string {
  if (!text) return '';
  const parts = text.split(/,\s+/).map((part) => part.replace(/\s+/g, '\u00a0').replace(/-/g, '-\u2060'));
  return leftToRight(parts.join(', '));
}

/** A left-to-right isolate (U+2066 … U+2069): the run keeps its order whatever surrounds it. */
const leftToRight = (text: string): string => `\u2066${text}\u2069`;
