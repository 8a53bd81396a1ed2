/**
 * A short two-note warning tone generated with WebAudio (no sound file). Browsers only allow
 * sound after a user gesture: `unlockTones()` is called from the sign-in click.
 */
let context: AudioContext | null = null;
let played = 0;

export function unlockTones(): void {
  try {
    context ??= new AudioContext();
    void context.resume();
  } catch {
    context = null;
  }
}

/** Plays the alarm tone; returns how many tones this page has played (the page shows it too). */
export function playAlarmTone(): number {
  played++;
  document.documentElement.dataset.alarmTones = String(played);
  if (!context) return played;
  const start = context.currentTime;
  for (const [i, freq] of [880, 660].entries()) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = 'square';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.18 + 0.16);
    osc.connect(gain).connect(context.destination);
    osc.start(start + i * 0.18);
    osc.stop(start + i * 0.18 + 0.17);
  }
  return played;
}
