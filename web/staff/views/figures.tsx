import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { gql } from '../api.js';
import type { ViewContext } from '../console.js';

/**
 * Figures for the office, computed by the box from its own audit log (no personal data): one
 * small uPlot chart per figure, the same numbers as a table, and a CSV download.
 */

interface Day {
  day: string;
  loaded: number;
  collected: number;
  medianReadyToCollectionMinutes: number | null;
  expired: number;
  collectedWithinWindowShare: number | null;
  failedAuthentications: number;
}

const SERIES: Array<{ key: keyof Day; label: string; unit: string; colour: string; scale?: (v: number) => number }> = [
  { key: 'collected', label: 'Abholungen pro Tag', unit: 'Abholungen', colour: '#1565c0' },
  { key: 'medianReadyToCollectionMinutes', label: 'Median bereit → abgeholt', unit: 'Stunden', colour: '#2e7d32', scale: (v) => v / 60 },
  { key: 'collectedWithinWindowShare', label: 'Anteil fristgerecht abgeholt', unit: '%', colour: '#6a1b9a', scale: (v) => v * 100 },
  { key: 'failedAuthentications', label: 'Fehlgeschlagene Anmeldungen pro Tag', unit: 'Fehlversuche', colour: '#c62828' },
  { key: 'expired', label: 'Abgelaufene Fristen pro Tag', unit: 'Vorgänge', colour: '#ef6c00' },
];

export function FiguresView({ ctx }: { ctx: ViewContext }) {
  const [days, setDays] = useState(14);
  const [data, setData] = useState<Day[] | null>(null);
  useEffect(() => {
    gql(ctx.client, 'query($d: Int) { figures(days: $d) { day loaded collected medianReadyToCollectionMinutes expired collectedWithinWindowShare failedAuthentications } }', { d: days }).then(
      (r) => setData(r.figures),
      () => setData([]),
    );
  }, [days]);
  return (
    <section aria-labelledby="figures-title">
      <h2 id="figures-title">Kennzahlen</h2>
      <form class="inline" onSubmit={(e) => e.preventDefault()}>
        <label for="days">Zeitraum</label>
        <select id="days" value={String(days)} onChange={(e) => setDays(Number((e.currentTarget as HTMLSelectElement).value))}>
          <option value="7">7 Tage</option>
          <option value="14">14 Tage</option>
          <option value="30">30 Tage</option>
          <option value="90">90 Tage</option>
        </select>
        <button type="button" disabled={!data} onClick={() => data && downloadCsv(data)}>
          Als CSV herunterladen
        </button>
      </form>
      <p class="hint">Aus dem Protokoll der Box berechnet: nur Zeiten, Vorgänge und Zähler — keine personenbezogenen Daten.</p>
      {data && (
        <div class="charts">
          {SERIES.map((s) => (
            <Chart key={s.key} days={data} series={s} />
          ))}
        </div>
      )}
      {data && <FiguresTable days={data} />}
    </section>
  );
}

function Chart({ days, series }: { days: Day[]; series: (typeof SERIES)[number] }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current) return;
    const xs = days.map((d) => Date.parse(`${d.day}T12:00:00Z`) / 1000);
    const ys = days.map((d) => {
      const v = d[series.key] as number | null;
      return v === null ? null : series.scale ? series.scale(v) : v;
    });
    const plot = new uPlot(
      {
        width: 440,
        height: 180,
        title: series.label,
        legend: { show: false },
        scales: { x: { time: true }, y: series.key === 'collectedWithinWindowShare' ? { range: [0, 100] } : { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
        axes: [{ stroke: '#263238' }, { stroke: '#263238', label: series.unit }],
        series: [{}, { label: series.unit, stroke: series.colour, fill: `${series.colour}22`, width: 2, spanGaps: true, points: { show: true } }],
      },
      [xs, ys],
      host.current,
    );
    return () => plot.destroy();
  }, [days, series]);
  return <div class="chart" ref={host} role="img" aria-label={`Diagramm: ${series.label} (Werte in der Tabelle unten)`} />;
}

function fmt(v: number | null, digits = 0): string {
  return v === null ? '—' : v.toFixed(digits);
}

function FiguresTable({ days }: { days: Day[] }) {
  return (
    <table class="figures">
      <caption>Kennzahlen je Tag</caption>
      <thead>
        <tr>
          <th scope="col">Tag</th>
          <th scope="col">beladen</th>
          <th scope="col">abgeholt</th>
          <th scope="col">Median bereit → abgeholt (Std.)</th>
          <th scope="col">fristgerecht (%)</th>
          <th scope="col">Fehlversuche</th>
          <th scope="col">abgelaufen</th>
        </tr>
      </thead>
      <tbody>
        {days.map((d) => (
          <tr key={d.day}>
            <th scope="row">{d.day}</th>
            <td>{d.loaded}</td>
            <td>{d.collected}</td>
            <td>{fmt(d.medianReadyToCollectionMinutes === null ? null : d.medianReadyToCollectionMinutes / 60, 1)}</td>
            <td>{fmt(d.collectedWithinWindowShare === null ? null : d.collectedWithinWindowShare * 100)}</td>
            <td>{d.failedAuthentications}</td>
            <td>{d.expired}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The figures as CSV (comma-separated, one row per day), downloaded from a blob: nothing leaves the box. */
export function figuresCsv(days: Day[]): string {
  const header = 'day,loaded,collected,median_ready_to_collection_minutes,collected_within_window_share,failed_authentications,expired';
  const rows = days.map((d) => [d.day, d.loaded, d.collected, d.medianReadyToCollectionMinutes ?? '', d.collectedWithinWindowShare ?? '', d.failedAuthentications, d.expired].join(','));
  return [header, ...rows].join('\n') + '\n';
}

function downloadCsv(days: Day[]): void {
  const url = URL.createObjectURL(new Blob([figuresCsv(days)], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `ausgabebox-kennzahlen-${days[0]?.day ?? ''}-${days.at(-1)?.day ?? ''}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}
