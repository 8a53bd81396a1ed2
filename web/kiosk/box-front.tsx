/** One compartment door as the box front shows it (schema `FrontSlot`). */
export interface FrontSlot {
  id: string;
  /** 1 = leftmost column */
  column: number;
  /** 1 = top row of its column */
  row: number;
  size: string;
  accessible: boolean;
}

/** Row counted from the bottom of its column (1 = bottom) and column from the left, for spoken directions. */
export function positionOf(slots: readonly FrontSlot[], id: string): { rowFromBottom: number; column: number } | null {
  const slot = slots.find((s) => s.id === id);
  if (!slot) return null;
  const rows = Math.max(...slots.filter((s) => s.column === slot.column).map((s) => s.row));
  return { rowFromBottom: rows - slot.row + 1, column: slot.column };
}

/**
 * The box front drawn from its compartments: one door per slot, the highlighted one filled, thick
 * framed and marked with an arrow and its id, so it is found without relying on colour.
 */
export function BoxFront({ slots, highlight, label }: { slots: readonly FrontSlot[]; highlight?: string | null; label: string }) {
  const columns = Math.max(1, ...slots.map((s) => s.column));
  const rows = Math.max(1, ...slots.map((s) => s.row));
  const w = 60;
  const h = 40;
  const pad = 6;
  const width = columns * w + pad * 2;
  const height = rows * h + pad * 2;
  return (
    <svg class="box-front" role="img" aria-label={label} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="xMidYMid meet">
      <rect x="0" y="0" width={width} height={height} rx="4" class="box-front__body" />
      {slots.map((s) => {
        const x = pad + (s.column - 1) * w;
        const y = pad + (s.row - 1) * h;
        const on = s.id === highlight;
        return (
          <g key={s.id} class={on ? 'box-front__door box-front__door--open' : 'box-front__door'}>
            <rect x={x + 2} y={y + 2} width={w - 4} height={h - 4} rx="2" stroke-width={on ? 5 : 1} />
            <text x={x + w / 2} y={y + h / 2 + 5} text-anchor="middle" font-size={on ? 15 : 11} font-weight={on ? 700 : 400}>
              {on ? `▶ ${s.id}` : s.id}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
