import type { TokenUsage } from './adapters/StdoutAdapter.js';

/** A model's token prices, USD per million tokens (`background.llm.pricing`). */
export interface ModelPrice {
  /** A part of the model id (`opus-4-5`, `sonnet`): the first entry whose `match` the id contains applies. */
  readonly match: string;
  readonly input: number;
  readonly output: number;
  /** Writing the prompt cache; 1.25 × input when not given. */
  readonly cache_write?: number | undefined;
  /** Reading the prompt cache; 0.1 × input when not given. */
  readonly cache_read?: number | undefined;
}

/**
 * Default prices: Anthropic's published list prices per million tokens for the
 * Claude 4 families (as of late 2025). They only estimate a run's cost while it runs,
 * to stop it at `max_cost_usd`; the cost a run is charged with is the one its
 * `result` reports. Set `background.llm.pricing` for other models or prices.
 */
export const DEFAULT_PRICING: readonly ModelPrice[] = [
  { match: 'opus-4-5', input: 5, output: 25 },
  { match: 'opus', input: 15, output: 75 },
  { match: 'sonnet', input: 3, output: 15 },
  { match: 'haiku-4', input: 1, output: 5 },
  { match: 'haiku', input: 0.8, output: 4 },
];

/**
 * What `usage` of `model` comes to at the first price whose `match` the model id
 * contains, USD: an estimate while a run is in flight (its result carries the cost
 * charged). Undefined when the model or the usage is unknown, or no price matches.
 */
export function estimateCost(usage: TokenUsage | undefined, model: string | undefined, pricing: readonly ModelPrice[]): number | undefined {
  if (!usage || model === undefined) return undefined;
  const price = pricing.find((p) => model.includes(p.match));
  return price ? costOf(usage, price) : undefined;
}

/** What `usage` costs at `price`, USD. */
export function costOf(u: TokenUsage, price: ModelPrice): number {
  const m = 1e-6;
  return (
    (u.input_tokens ?? 0) * price.input * m +
    (u.output_tokens ?? 0) * price.output * m +
    (u.cache_creation_input_tokens ?? 0) * (price.cache_write ?? price.input * 1.25) * m +
    (u.cache_read_input_tokens ?? 0) * (price.cache_read ?? price.input * 0.1) * m
  );
}
