/**
 * Speech output of the panel (EN 301 549 5.1.3): the Web Speech API where the browser has a voice
 * for the language, otherwise a clip the box renders with espeak-ng (`/speech?lang=…&text=…`,
 * served and cached by the box itself). Every utterance is also announced as a `kiosk-speech`
 * DOM event (text and language) so that tests can hear what a blind user would hear; nothing is
 * logged or kept by the page.
 */

export const VOLUME_STEPS = 5;
/** the default step, restored at the end of every session (5.1.3.12/13) */
export const DEFAULT_VOLUME = 3;

export interface SpeechDetail {
  text: string;
  lang: string;
  /** private: through headphones only */
  private: boolean;
}

export class Speaker {
  private audio: HTMLAudioElement | null = null;
  private clipUrl: string | null = null;
  private generation = 0;

  /** Speaks `text` in `lang`, interrupting whatever is being said. */
  say(text: string, lang: string, volumeStep: number, privateOutput: boolean): void {
    this.stop();
    const generation = this.generation;
    window.dispatchEvent(new CustomEvent<SpeechDetail>('kiosk-speech', { detail: { text, lang, private: privateOutput } }));
    const volume = Math.min(1, Math.max(0.1, volumeStep / VOLUME_STEPS));
    const synth = 'speechSynthesis' in window ? window.speechSynthesis : null;
    const voice = synth?.getVoices().find((v) => v.lang.toLowerCase().startsWith(lang.toLowerCase()));
    if (synth && voice) {
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.voice = voice;
      utterance.lang = voice.lang;
      utterance.volume = volume;
      synth.speak(utterance);
      return;
    }
    // No voice in this browser: the box renders the clip.
    fetch(`/speech?lang=${encodeURIComponent(lang)}&text=${encodeURIComponent(text)}`, { cache: 'no-store' })
      .then((response) => (response.ok ? response.blob() : null))
      .then((blob) => {
        if (!blob || generation !== this.generation) return;
        this.clipUrl = URL.createObjectURL(blob);
        this.audio = new Audio(this.clipUrl);
        this.audio.volume = volume;
        void this.audio.play().catch(() => {});
      })
      .catch(() => {});
  }

  /** Stops speaking at once (any key interrupts speech, 5.1.3.4). */
  stop(): void {
    this.generation++;
    if ('speechSynthesis' in window) window.speechSynthesis.cancel();
    if (this.audio) {
      this.audio.pause();
      this.audio.removeAttribute('src');
      this.audio = null;
    }
    if (this.clipUrl) {
      URL.revokeObjectURL(this.clipUrl);
      this.clipUrl = null;
    }
  }
}
