import { spawn } from 'node:child_process';
import type { Route } from './http.js';

/**
 * Speech clips for the panel where the browser has no voice: espeak-ng (Debian package
 * `espeak-ng`) renders the text on the box itself — no cloud, no CDN. Clips without digits are
 * kept (they are the screens' fixed texts); a text with digits may be personal (read back through
 * headphones) and is rendered, sent and forgotten.
 */

export const SPEECH_PATH = '/speech';
/** espeak-ng voice per language tag of the panel */
export const VOICES: Readonly<Record<string, string>> = { de: 'de', en: 'en', tr: 'tr', ar: 'ar', uk: 'uk', ru: 'ru' };
const MAX_TEXT = 1_000;
const MAX_CACHED = 300;

/** Renders `text` in `lang` as a WAV file (espeak-ng reads the text from stdin, never as an argument). */
export function renderSpeech(lang: string, text: string, program = 'espeak-ng'): Promise<Buffer> {
  const voice = VOICES[lang];
  if (!voice) return Promise.reject(new Error(`no voice for ${lang}`));
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['-v', voice, '-s', '150', '--stdout', '--stdin'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(chunks));
      else reject(new Error(`espeak-ng exited with ${code}`));
    });
    child.stdin.end(text, 'utf8');
  });
}

/** `GET /speech?lang=de&text=…` → audio/wav; 400 for a language without a voice or an empty/too long text, 503 without espeak-ng. */
export function speechRoutes(): Route[] {
  const cache = new Map<string, Buffer>();
  return [
    {
      method: 'GET',
      path: SPEECH_PATH,
      handle: async (req, res) => {
        const url = new URL(req.url ?? '/', 'http://box');
        const lang = url.searchParams.get('lang') ?? '';
        const text = (url.searchParams.get('text') ?? '').trim();
        if (!VOICES[lang] || !text || text.length > MAX_TEXT) {
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
          return void res.end('lang must be one of de, en, tr, ar, uk, ru and text 1–1000 characters');
        }
        const key = `${lang}\u0000${text}`;
        let wav = cache.get(key);
        if (!wav) {
          try {
            wav = await renderSpeech(lang, text);
          } catch {
            res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
            return void res.end('speech is not available on this box (install espeak-ng)');
          }
          if (!/\d/.test(text)) {
            if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
            cache.set(key, wav);
          }
        }
        res.writeHead(200, { 'content-type': 'audio/wav', 'cache-control': 'no-store', 'content-length': String(wav.length) });
        res.end(wav);
      },
    },
  ];
}
