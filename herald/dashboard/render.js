// One render loop for everything that moves: at most a few passes a second, each inside an
// animation frame. Events only mark what they changed; a pass redraws what is marked. So a
// thousand events a second cost a thousand cheap updates of bounded buffers, and a handful
// of DOM writes.

export const RENDER_HZ = 4;

export class Renderer {
  constructor(hz = RENDER_HZ) {
    this.gap = 1000 / hz;
    this.tasks = new Map(); // name → draw function
    this.dirty = new Set();
    this.pending = false;
    this.last = 0;
    this.renders = 0; // passes so far: read by the tests through window.heraldDashboard
    this.spent = 0; // ms spent drawing, all passes
    this.longest = 0; // ms of the longest pass
  }

  /** Register `draw` under `name`; `mark(name)` asks for it on the next pass. */
  on(name, draw) {
    this.tasks.set(name, draw);
    return this;
  }

  mark(...names) {
    for (const name of names) this.dirty.add(name);
    if (this.pending) return;
    this.pending = true;
    const wait = Math.max(0, this.last + this.gap - performance.now());
    setTimeout(() => requestAnimationFrame(() => this.run()), wait);
  }

  run() {
    this.pending = false;
    this.last = performance.now();
    this.renders += 1;
    const names = [...this.dirty];
    this.dirty.clear();
    for (const name of names) {
      const draw = this.tasks.get(name);
      try {
        draw?.();
      } catch (err) {
        console.error(`render ${name}:`, err);
      }
    }
    const took = performance.now() - this.last;
    this.spent += took;
    this.longest = Math.max(this.longest, took);
  }
}

export const renderer = new Renderer();
