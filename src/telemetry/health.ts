import type { WatchedCamera } from './metrics.js';
import { cameraReadiness, combineReadiness, type Readiness, type ReadinessLimits } from './readiness.js';

/** The cameras /readyz answers for, each judged against its own limits at request time. */
export class RelayHealth {
  readonly #cameras = new Map<string, { source: WatchedCamera; limits: ReadinessLimits }>();

  /** Judge this camera until the returned function is called. */
  watch(source: WatchedCamera, limits: ReadinessLimits): () => void {
    const entry = { source, limits };
    this.#cameras.set(source.camera, entry);
    return () => {
      if (this.#cameras.get(source.camera) === entry) this.#cameras.delete(source.camera);
    };
  }

  readiness(): Readiness {
    return combineReadiness(
      [...this.#cameras.values()].map(({ source, limits }) =>
        cameraReadiness(source.camera, source.snapshot(), limits),
      ),
    );
  }
}
