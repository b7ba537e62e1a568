/**
 * Writes the SSE frames of a hijacked response, one HTTP/1.1 chunk per frame in one socket write.
 *
 * res.write on a chunked response corks the socket, queues the chunk as four pieces (size, CRLF,
 * data, CRLF) and uncorks on the next tick: a nextTick, a writev of four buffers and the Writable
 * bookkeeping for each token. Writing the framed chunk to the socket ourselves is one string and
 * one write (bench/HISTORY.md, SSE frames as one write, has the A/B at 1,000 open streams). The bytes on the wire are
 * the same; when the response is not chunked (an HTTP/1.0 client), or has no socket yet (pipelined
 * behind another response), frames go through res.write.
 */
import type { ServerResponse } from 'node:http';

export class SseFrameWriter {
  private readonly chunked: boolean;

  /** Call after writeHead(): sends the headers now, so socket writes follow them. */
  constructor(private readonly res: ServerResponse) {
    res.flushHeaders();
    this.chunked = res.chunkedEncoding;
  }

  /**
   * Writes one frame. Returns undefined when the socket takes more at once, else a promise that
   * resolves when it drains or closes: a slow reader must not make the gateway buffer the whole
   * generation, and a closed one ends the relay through the generation's cancellation.
   */
  write(frame: string): Promise<void> | undefined {
    const socket = this.res.socket;
    // A response pipelined behind another on its connection has no socket until that one has
    // finished: res.write holds its frames (framed as chunks by Node) and sends them, in order,
    // before anything written to the socket once it is attached.
    if (!this.chunked || socket === null) return this.res.write(frame) ? undefined : drainedOrClosed(this.res);
    if (socket.destroyed) return undefined;
    return socket.write(`${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`) ? undefined : drainedOrClosed(socket);
  }

  /** Writes the last frame and ends the response (Node writes the terminating chunk). */
  end(frame: string): void {
    this.res.end(frame);
  }

  /** The client is gone: nothing more can be written. */
  get closed(): boolean {
    return this.res.destroyed || this.res.socket?.destroyed === true;
  }

  /** Drops the connection without the terminating chunk, so the client sees the stream cut. */
  destroy(): void {
    this.res.destroy();
  }
}

interface DrainEmitter {
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

function drainedOrClosed(stream: DrainEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
