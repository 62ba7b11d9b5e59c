// How both doors name what a result is about: a table (`users → users2` when it is renamed), an entity
// (`Table t, PartitionKey 'p', RowKey 'r': `), and a table's error, each named once however the engine
// worded the message.

/** `orders`, or `users → users2` when the destination has another name. */
export function tableLabel(t: { source: string; destination: string }): string {
  return t.source === t.destination ? t.source : `${t.source} → ${t.destination}`;
}

/** How the engine and the annotations name an entity: `Table t, PartitionKey 'p', RowKey 'r': `. */
export function entityPrefix(table: string, partitionKey: string, rowKey: string): string {
  return `Table ${table}, PartitionKey '${partitionKey}', RowKey '${rowKey}': `;
}

/** The message with the entity named once: some engine messages (transform.ts) name it already. */
export function entityMessage(table: string, partitionKey: string, rowKey: string, message: string): string {
  const prefix = entityPrefix(table, partitionKey, rowKey);
  return message.startsWith(prefix) ? message : prefix + message;
}

/** The message without the entity's name, for a row or line that names it already. */
export function entityReason(table: string, partitionKey: string, rowKey: string, message: string): string {
  const prefix = entityPrefix(table, partitionKey, rowKey);
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

/** A table's error naming the table once: engine errors often begin with "Table orders …" already. */
export function tableMessage(table: string, error: string): string {
  return error.startsWith(`Table ${table} `) || error.startsWith(`Table ${table}:`)
    ? error
    : `Table ${table}: ${error}`;
}

/** A table's error without its leading `Table orders: `, for a line that names the table already. */
export function tableReason(table: string, error: string): string {
  return error.startsWith(`Table ${table}: `) ? error.slice(`Table ${table}: `.length) : error;
}
