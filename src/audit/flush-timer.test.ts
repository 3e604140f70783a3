import { describe, expect, test } from "bun:test";
import { FlushTimer } from "./flush-timer.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function counting(): { timer: FlushTimer; runs: () => number } {
  let runs = 0;
  return { timer: new FlushTimer(() => runs++), runs: () => runs };
}

describe("FlushTimer", () => {
  test("soon() called for every event of a turn runs once, on the next turn", async () => {
    const { timer, runs } = counting();
    for (let i = 0; i < 100; i++) timer.soon();
    expect(runs()).toBe(0);
    await nextTurn();
    await nextTurn();
    expect(runs()).toBe(1);
    expect(timer.pending).toBe(false);
  });

  test("after() while a run is pending adds none", async () => {
    const { timer, runs } = counting();
    timer.after(5);
    timer.after(5);
    timer.soon();
    timer.after(5);
    await Bun.sleep(30);
    expect(runs()).toBe(1);
  });

  test("soon() takes the place of a pending timer: the window does not run again when it ends", async () => {
    const { timer, runs } = counting();
    timer.after(20);
    timer.soon();
    await nextTurn();
    expect(runs()).toBe(1);
    await Bun.sleep(40);
    expect(runs()).toBe(1);
  });

  test("after(0) runs on a later turn, not at once; a run may schedule the next one", async () => {
    let runs = 0;
    const timer: FlushTimer = new FlushTimer(() => {
      if (++runs < 3) timer.after(runs === 1 ? 0 : 1);
    });
    timer.after(0);
    expect(runs).toBe(0);
    await Bun.sleep(30);
    expect(runs).toBe(3);
    expect(timer.pending).toBe(false);
  });
});
