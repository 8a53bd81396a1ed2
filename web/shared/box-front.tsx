import { memo } from 'preact/compat';
import { useEffect, useState } from 'preact/hooks';
import './box-front.css';

/**
 * The front of the box as a picture: one cell per compartment at its row and column (from the
 * compartment id: letters = column, number = row), row heights by size, each state shown by a
 * colour AND a symbol, accessible compartments marked, an open door outlined. Generic: it takes
 * any source of compartments; a live source tells each cell about its own changes only.
 */

export interface FrontCompartment {
  id: string;
  row: number;
  column: number;
  size: string;
  accessible: boolean;
  state: string;
  door: string;
  fault: string | null;
  inService: boolean;
  occupied: boolean;
}

/** Where the cells come from; `watch` is optional for a picture that never changes. */
export interface CompartmentSource {
  ids(): readonly string[];
  get(id: string): FrontCompartment | undefined;
  watch?(id: string, fn: (c: FrontCompartment) => void): () => void;
}

/** A source over a fixed list (a drawing, a test). */
export function staticSource(list: readonly FrontCompartment[]): CompartmentSource {
  const byId = new Map(list.map((c) => [c.id, c]));
  const ids = list.map((c) => c.id);
  return { ids: () => ids, get: (id) => byId.get(id) };
}

/** The states a cell can show: label (German, as the office speaks), symbol, and CSS class. */
export const STATES: Record<string, { label: string; symbol: string }> = {
  free: { label: 'frei', symbol: '○' },
  occupied: { label: 'belegt', symbol: '●' },
  unlocking: { label: 'wird geöffnet', symbol: '↻' },
  open: { label: 'offen', symbol: '↗' },
  fault: { label: 'Störung', symbol: '⚠' },
  outOfService: { label: 'außer Betrieb', symbol: '⊘' },
  failed: { label: 'ausgefallen', symbol: '✖' },
};

const stateOf = (state: string) => STATES[state] ?? { label: state, symbol: '?' };

/** What a screen reader and the tooltip say about one compartment. */
export function describeCompartment(c: FrontCompartment): string {
  const parts = [`Fach ${c.id}`, stateOf(c.state).label, `Größe ${c.size}`];
  if (c.door === 'open' && c.state !== 'open') parts.push('Tür offen');
  if (c.fault) parts.push(`Störung ${c.fault}`);
  if (c.accessible) parts.push('rollstuhlgerecht');
  return parts.join(', ');
}

const ROW_HEIGHT: Record<string, number> = { S: 26, M: 32, L: 40, XL: 52 };

export interface BoxFrontProps {
  source: CompartmentSource;
  /** the compartment to point at (e.g. the one that opens for loading) */
  highlight?: string | null;
  /** clicking a cell selects it; without this the cells are not interactive */
  onSelect?: (id: string) => void;
  selected?: string | null;
  label?: string;
}

export function BoxFront({ source, highlight = null, onSelect, selected = null, label = 'Vorderseite der Box' }: BoxFrontProps) {
  const ids = source.ids();
  let columns = 0;
  const rowSize = new Map<number, string>();
  for (const id of ids) {
    const c = source.get(id)!;
    columns = Math.max(columns, c.column);
    if (!rowSize.has(c.row)) rowSize.set(c.row, c.size);
  }
  const rows = Math.max(0, ...rowSize.keys());
  const gridStyle = {
    gridTemplateColumns: `2rem repeat(${columns}, 24px)`,
    gridTemplateRows: `1.25rem ${Array.from({ length: rows }, (_, r) => `${ROW_HEIGHT[rowSize.get(r + 1) ?? 'M'] ?? 32}px`).join(' ')}`,
  };
  return (
    <figure class="box-front" aria-label={label}>
      <div class="box-front-scroll">
        <div class="box-front-grid" style={gridStyle}>
          {Array.from({ length: columns }, (_, i) => (
            <span key={`c${i}`} class="box-front-axis" aria-hidden="true" style={{ gridColumn: i + 2, gridRow: 1 }}>
              {columnName(i + 1)}
            </span>
          ))}
          {Array.from({ length: rows }, (_, r) => (
            <span key={`r${r}`} class="box-front-axis" aria-hidden="true" style={{ gridColumn: 1, gridRow: r + 2 }}>
              {r + 1}
            </span>
          ))}
          {ids.map((id) => (
            <Cell key={id} id={id} source={source} highlighted={highlight === id} selected={selected === id} onSelect={onSelect} />
          ))}
        </div>
      </div>
      <Legend />
    </figure>
  );
}

/** Spreadsheet-style column name: 1 → A, 27 → AA. */
export function columnName(n: number): string {
  let s = '';
  for (; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

interface CellProps {
  id: string;
  source: CompartmentSource;
  highlighted: boolean;
  selected: boolean;
  onSelect: ((id: string) => void) | undefined;
}

const Cell = memo(function Cell({ id, source, highlighted, selected, onSelect }: CellProps) {
  const [c, setC] = useState(() => source.get(id)!);
  useEffect(() => {
    setC(source.get(id)!);
    return source.watch?.(id, setC);
  }, [id, source]);
  const s = stateOf(c.state);
  const classes = ['cell', `cell-${c.state}`];
  if (c.door === 'open') classes.push('cell-door-open');
  if (c.accessible) classes.push('cell-accessible');
  if (highlighted) classes.push('cell-highlight');
  if (selected) classes.push('cell-selected');
  const text = describeCompartment(c);
  const style = { gridColumn: c.column + 1, gridRow: c.row + 1 };
  // An open door always gets the orange frame; its arrow replaces only the free/occupied symbol.
  const symbol = c.door === 'open' && (c.state === 'free' || c.state === 'occupied') ? '↗' : s.symbol;
  return onSelect ? (
    <button type="button" class={classes.join(' ')} style={style} title={text} aria-label={text} aria-pressed={selected} data-id={id} data-state={c.state} data-door={c.door} onClick={() => onSelect(id)}>
      <span aria-hidden="true">{symbol}</span>
    </button>
  ) : (
    <span role="img" class={classes.join(' ')} style={style} title={text} aria-label={text} data-id={id} data-state={c.state} data-door={c.door}>
      <span aria-hidden="true">{symbol}</span>
    </span>
  );
});

function Legend() {
  return (
    <figcaption class="box-front-legend">
      <ul>
        {Object.entries(STATES).map(([state, s]) => (
          <li key={state}>
            <span class={`cell cell-${state} legend-swatch`} aria-hidden="true">
              {s.symbol}
            </span>
            {s.label}
          </li>
        ))}
        <li>
          <span class="cell cell-free cell-door-open legend-swatch" aria-hidden="true">
            ↗
          </span>
          Tür offen (orange Rahmen)
        </li>
        <li>
          <span class="cell cell-free cell-accessible legend-swatch" aria-hidden="true">
            ○
          </span>
          rollstuhlgerecht (blauer Balken unten)
        </li>
      </ul>
    </figcaption>
  );
}
