/**
 * The child process of provider-process.ts: runs the project's OpenAI-compatible server with the
 * options it is sent, and answers for its stats and resets over the IPC channel.
 */
import { startEmbeddingServer, type EmbeddingServer } from '../src/testing/embedding-server';
import type { ProviderMessage } from './provider-process';

let server: EmbeddingServer | undefined;
process.on('message', (m: ProviderMessage) => {
  void (async () => {
    if (m.op === 'start') {
      server = await startEmbeddingServer(m.options);
      process.send!({ id: m.id, url: server.url });
    } else if (m.op === 'stats') process.send!({ id: m.id, stats: server!.stats });
    else if (m.op === 'reset') {
      server!.reset();
      process.send!({ id: m.id });
    } else if (m.op === 'close') {
      await server?.close();
      process.send!({ id: m.id });
      process.disconnect();
    }
  })();
});
