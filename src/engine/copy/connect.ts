// The run's two connections and its flow control, built once from the config.
import { createServiceClient } from "../wire/connection.js";
import { DEFAULT_RETRY, TableHttp } from "../wire/http.js";
import { FlowControl } from "./rate.js";
import type { EngineConfig } from "./run-config.js";

export interface Connected {
  source: TableHttp;
  destination: TableHttp;
  secrets: string[];
  /** The run's flow control for writes to the destination (rate cap, back-off on 429), given a concurrency. */
  flow?: FlowControl;
}

export function connect(
  config: Pick<EngineConfig, "source" | "destination" | "retry"> &
    Partial<Pick<EngineConfig, "concurrency" | "maxEntitiesPerSecond">>,
  signal?: AbortSignal,
): Connected {
  const retry = { ...DEFAULT_RETRY, ...config.retry };
  const src = createServiceClient(config.source, "source");
  const dst = createServiceClient(config.destination, "destination");
  const destination = new TableHttp(dst, retry, signal);
  const flow =
    config.concurrency === undefined
      ? undefined
      : new FlowControl({
          concurrency: config.concurrency,
          maxEntitiesPerSecond: config.maxEntitiesPerSecond,
        });
  if (flow) {
    destination.onThrottle = (hintMs) => flow.throttled(hintMs);
    destination.onBusy = () => flow.busy();
  }
  return {
    source: new TableHttp(src, retry, signal),
    destination,
    secrets: [...src.secrets, ...dst.secrets],
    flow,
  };
}

/** The source alone (preflight needs no destination). */
export function connectSource(
  config: Pick<EngineConfig, "source" | "retry">,
  signal?: AbortSignal,
): TableHttp {
  return new TableHttp(
    createServiceClient(config.source, "source"),
    { ...DEFAULT_RETRY, ...config.retry },
    signal,
  );
}
