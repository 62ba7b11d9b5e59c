// The demo's tables and sample data: what the source holds, and the entities the story is about.
import type { WireEntity, WireValue } from "../src/engine/wire/edm.js";
import { sampleEntity } from "../test/support/sample-entities.js";

export const ORDERS = "DemoOrders";
export const DEVICES = "DemoDevices";
export const DEVICES_DEST = "DemoDevicesV2"; // copied under a new name: --tables source:destination
export const TABLES = `${ORDERS},${DEVICES}:${DEVICES_DEST}`;
export const ORDER_COUNT = 1000;
export const DEVICE_COUNT = 500;

/** An entity's keys (how the CLI's --json names an entity, too). */
export interface Key {
  partitionKey: string;
  rowKey: string;
}

export const keyText = (k: Key) => `${k.partitionKey}/${k.rowKey}`;
export const same = (a: Key, b: Key) => a.partitionKey === b.partitionKey && a.rowKey === b.rowKey;
export const str = (e: WireEntity | undefined, name: string) => e?.properties.get(name)?.value;

export function order(i: number, status: string, extra: Record<string, WireValue> = {}): WireEntity {
  return sampleEntity(i, 10, { status: { type: "Edm.String", value: status }, ...extra });
}

export function device(i: number): WireEntity {
  const e = sampleEntity(i, 5);
  // A property named `id`: fine in Table Storage, reserved by Cosmos DB for Table.
  e.properties.set("id", { type: "Edm.String", value: `dev-${String(i).padStart(5, "0")}` });
  e.properties.set("firmware", { type: "Edm.String", value: `1.${i % 9}.${i % 4}` });
  e.properties.set("bytesSent", { type: "Edm.Int64", value: String(2n ** 60n + BigInt(i)) });
  return e;
}

export const DELETED = order(7, "placed"); // deleted by the app before the switch
export const X = order(12, "placed"); // after the switch: the app writes it on Cosmos, a straggler on the source
export const Y = order(ORDER_COUNT, "shipped"); // after the switch: a straggler inserts it on the source
