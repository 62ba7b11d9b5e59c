// Preloaded with `node --import` to make a process's clock lie by TEST_CLOCK_SKEW_MS (a runner whose
// clock is wrong). Only Date is shifted; the servers keep the true time.
const skew = Number(process.env.TEST_CLOCK_SKEW_MS ?? 0);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew);
    else super(...args);
  }
  static now() {
    return RealDate.now() + skew;
  }
}
globalThis.Date = SkewedDate;
