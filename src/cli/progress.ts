/**
 * Progress of a batch on stderr: a bar redrawn in place on a terminal, a plain line per 10 %
 * otherwise (logs and CI keep a readable record). Prints counts only, never values.
 */

const WIDTH = 30;

/** Reports `done / total` as a batch advances. */
export class Progress {
  readonly #stream: NodeJS.WritableStream;
  readonly #total: number;
  readonly #label: string;
  readonly #tty: boolean;
  #done = 0;
  #lastTenth = 0;

  /** `label` names the work (`migrated`); a stream with `isTTY` gets the bar. */
  constructor(stream: NodeJS.WritableStream, total: number, label: string) {
    this.#stream = stream;
    this.#total = total;
    this.#label = label;
    this.#tty = (stream as NodeJS.WriteStream).isTTY === true;
  }

  /** One more item done. */
  tick(): void {
    this.#done++;
    const percent = Math.floor((this.#done / this.#total) * 100);
    if (this.#tty) {
      const filled = Math.round((this.#done / this.#total) * WIDTH);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
      this.#stream.write(`\r[${bar}] ${this.#done}/${this.#total} ${this.#label} (${percent}%)`);
      if (this.#done === this.#total) this.#stream.write('\n');
      return;
    }
    const tenth = Math.floor(percent / 10);
    if (tenth > this.#lastTenth) {
      this.#lastTenth = tenth;
      this.#stream.write(`${this.#label} ${this.#done}/${this.#total} (${percent}%)\n`);
    }
  }
}
