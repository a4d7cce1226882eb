/**
 * The loader's worker thread: keeps the cases (shared memory) and produces the batches the
 * loader asks for, transferring their buffers back. Started by PatchLoader, never imported.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { LoadedCase } from "./cases.js";
import { prepareCase, shareCase } from "./loader-cases.js";
import { BatchProducer } from "./loader-producer.js";
import {
  serializeError,
  type FromWorker,
  type ToWorker,
  type WorkerInit,
} from "./loader-protocol.js";

function run(port: NonNullable<typeof parentPort>, init: WorkerInit): void {
  const cases: (LoadedCase | undefined)[] = new Array<LoadedCase | undefined>(init.caseCount);
  let producer: BatchProducer | null = null;
  const send = (message: FromWorker, transfer: ArrayBuffer[] = []): void =>
    port.postMessage(message, transfer);

  const handle = async (m: ToWorker): Promise<void> => {
    if (m.type === "case") {
      cases[m.slot] = m.case;
    } else if (m.type === "load") {
      // Read and preprocess here, then move the volumes to shared memory for the other workers.
      const c = shareCase(await prepareCase(m.files, m.prepare));
      cases[m.slot] = c;
      send({ type: "loaded", slot: m.slot, case: c });
    } else {
      if (producer === null) {
        const all = cases.filter((c): c is LoadedCase => c !== undefined);
        if (all.length !== init.caseCount)
          throw new Error("batch requested before every case arrived");
        producer = new BatchProducer(all, init.config);
      }
      const batch = producer.produce(m.epoch, m.index, m.count);
      send({ type: "batch", job: m.job, ...batch }, [
        batch.images.buffer as ArrayBuffer,
        batch.labels.buffer as ArrayBuffer,
      ]);
    }
  };

  port.on("message", (m: ToWorker) => {
    handle(m).catch((error: unknown) => send({ type: "error", error: serializeError(error) }));
  });
}

if (parentPort !== null) run(parentPort, workerData as WorkerInit);
