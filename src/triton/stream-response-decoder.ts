/**
 * The decoder of ModelStreamInferResponse, the one message the gateway decodes per Triton
 * response (a token, when streaming). It gives the same object as the generated
 * `ModelStreamInferResponse.decode` (stream-response-decoder.test.ts compares the two on real and
 * random messages) with a fraction of the garbage: the generated code turns every tensor shape
 * dimension into a BigInt and then a string, copies every raw output, and decodes strings through
 * a TextDecoder view. A non-streamed TRT-LLM answer carries 13 output tensors, and that decode
 * was a tenth of everything the gateway allocated per request (bench/HISTORY.md, four cuts on the request path).
 *
 * Written by hand for that reason only: field numbers and wire rules come from
 * proto/grpc_service.proto. The fields the gateway never reads on this path (an output's
 * `parameters` and `contents`, which Triton leaves empty for raw outputs) still decode, through
 * the generated decoders, so nothing is lost.
 */
import {
  InferTensorContents,
  ModelInferResponse_InferOutputTensor_ParametersEntry,
  type InferParameter,
  type ModelInferResponse,
  type ModelInferResponse_InferOutputTensor as OutputTensor,
  type ModelStreamInferResponse,
} from './generated/grpc_service.js';

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;
const TWO_32 = 4294967296;

class WireReader {
  pos = 0;
  /** Where the message being read ends; narrowed while a nested message is read (enter()). */
  end: number;
  /** The last varint read: its low and high 32 bits (unsigned). */
  private lo = 0;
  private hi = 0;

  constructor(readonly buf: Buffer) {
    this.end = buf.length;
  }

  /**
   * Narrows the reader to the length-delimited message at pos, for its decoder; leave() moves
   * past it and restores the outer end. (One reader for the whole response: no object per
   * nested message.)
   */
  enter(): number {
    const end = this.delimited();
    const outer = this.end;
    this.end = end;
    return outer;
  }

  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new RangeError('premature end of protobuf message');
    return this.buf[this.pos++]!;
  }

  /** Reads a varint of up to 10 bytes into lo/hi. */
  private varint(): void {
    let lo = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.byte();
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    b = this.byte();
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (let shift = 3; ; shift += 7) {
        if (shift > 31) throw new RangeError('invalid varint in protobuf message');
        b = this.byte();
        hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  uint32(): number {
    this.varint();
    return this.lo;
  }

  bool(): boolean {
    this.varint();
    return this.lo !== 0 || this.hi !== 0;
  }

  /** int64 or uint64 as a number; like the generated code, refuses values beyond 2^53. */
  int64(signed: boolean): number {
    this.varint();
    if (this.hi === 0) return this.lo;
    if (this.hi < 0x200000) return this.hi * TWO_32 + this.lo;
    const bits = (BigInt(this.hi) << 32n) | BigInt(this.lo);
    const num = Number(signed ? BigInt.asIntN(64, bits) : bits);
    if (num > Number.MAX_SAFE_INTEGER) throw new Error('Value is larger than Number.MAX_SAFE_INTEGER');
    if (num < Number.MIN_SAFE_INTEGER) throw new Error('Value is smaller than Number.MIN_SAFE_INTEGER');
    return num;
  }

  double(): number {
    this.advance(8);
    return this.buf.readDoubleLE(this.pos - 8);
  }

  /** The bounds of a length-delimited field; the caller moves on to `end`. */
  delimited(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.end) throw new RangeError('premature end of protobuf message');
    return end;
  }

  string(): string {
    const end = this.delimited();
    const start = this.pos;
    this.pos = end;
    return this.buf.toString('utf8', start, end);
  }

  /** A view, not a copy: the message buffer is this response's own. */
  bytes(): Buffer {
    const end = this.delimited();
    const view = this.buf.subarray(this.pos, end);
    this.pos = end;
    return view;
  }

  skip(wireType: number, fieldNo: number): void {
    switch (wireType) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case LENGTH_DELIMITED:
        this.pos = this.delimited();
        return;
      case START_GROUP:
        for (;;) {
          const tag = this.uint32();
          const type = tag & 7;
          if (type === END_GROUP) {
            if (tag >>> 3 !== fieldNo) throw new Error('invalid end group tag');
            return;
          }
          this.skip(type, tag >>> 3);
        }
      case FIXED32:
        this.advance(4);
        return;
      default:
        throw new Error(`cant skip wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('premature end of protobuf message');
    this.pos += n;
  }
}

/**
 * Whether to stop at `tag`: the generated decoders end a message at tag 0 or an end-group tag
 * (and skip any other field whose wire type they did not expect).
 */
function endsMessage(tag: number): boolean {
  return (tag & 7) === END_GROUP || tag === 0;
}

export function decodeStreamInferResponse(input: Uint8Array): ModelStreamInferResponse {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const r = new WireReader(buf);
  const message: ModelStreamInferResponse = { errorMessage: '', inferResponse: undefined };
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === 10) {
      message.errorMessage = r.string();
      continue;
    }
    if (tag === 18) {
      // A second occurrence replaces the first, as in the generated code (Triton never sends two).
      const outer = r.enter();
      message.inferResponse = inferResponse(r);
      r.leave(outer);
      continue;
    }
    if (endsMessage(tag)) break;
    r.skip(tag & 7, tag >>> 3);
  }
  return message;
}

function inferResponse(r: WireReader): ModelInferResponse {
  const m: ModelInferResponse = { modelName: '', modelVersion: '', id: '', parameters: {}, outputs: [], rawOutputContents: [] };
  while (r.pos < r.end) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        m.modelName = r.string();
        continue;
      case 18:
        m.modelVersion = r.string();
        continue;
      case 26:
        m.id = r.string();
        continue;
      case 34: {
        const outer = r.enter();
        const entry = parameterEntry(r);
        r.leave(outer);
        if (entry.value !== undefined) m.parameters[entry.key] = entry.value;
        continue;
      }
      case 42: {
        const outer = r.enter();
        m.outputs.push(outputTensor(r));
        r.leave(outer);
        continue;
      }
      case 50:
        m.rawOutputContents.push(r.bytes());
        continue;
    }
    if (endsMessage(tag)) break;
    r.skip(tag & 7, tag >>> 3);
  }
  return m;
}

/** One map entry: key (1) and value (2); the caller drops an entry without a value, as generated code does. */
function parameterEntry(r: WireReader): { key: string; value: InferParameter | undefined } {
  let key = '';
  let value: InferParameter | undefined;
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === 10) {
      key = r.string();
      continue;
    }
    if (tag === 18) {
      const outer = r.enter();
      value = inferParameter(r);
      r.leave(outer);
      continue;
    }
    if (endsMessage(tag)) break;
    r.skip(tag & 7, tag >>> 3);
  }
  return { key, value };
}

function inferParameter(r: WireReader): InferParameter {
  const p: InferParameter = { boolParam: undefined, int64Param: undefined, stringParam: undefined, doubleParam: undefined, uint64Param: undefined };
  while (r.pos < r.end) {
    const tag = r.uint32();
    switch (tag) {
      case 8:
        p.boolParam = r.bool();
        continue;
      case 16:
        p.int64Param = r.int64(true);
        continue;
      case 26:
        p.stringParam = r.string();
        continue;
      case 33:
        p.doubleParam = r.double();
        continue;
      case 40:
        p.uint64Param = r.int64(false);
        continue;
    }
    if (endsMessage(tag)) break;
    r.skip(tag & 7, tag >>> 3);
  }
  return p;
}

/** Packed int64 dimensions (wire type 2), after any sent unpacked. */
function packedShape(r: WireReader, shape: number[]): number[] {
  // Shapes have one or two dimensions: an array literal of that size, not the 17-slot backing
  // store an empty array gets on its first push (~1 KB per 13-output answer).
  if (shape.length === 0 && r.pos < r.end) {
    const first = r.int64(true);
    if (r.pos >= r.end) return [first];
    const second = r.int64(true);
    if (r.pos >= r.end) return [first, second];
    shape = [first, second];
  }
  while (r.pos < r.end) shape.push(r.int64(true));
  return shape;
}

function outputTensor(r: WireReader): OutputTensor {
  const t: OutputTensor = { name: '', datatype: '', shape: [], parameters: {}, contents: undefined };
  while (r.pos < r.end) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        t.name = r.string();
        continue;
      case 18:
        t.datatype = r.string();
        continue;
      case 24:
        t.shape.push(r.int64(true));
        continue;
      case 26: {
        const outer = r.enter();
        t.shape = packedShape(r, t.shape);
        r.leave(outer);
        continue;
      }
      case 34: {
        // Rare (Triton sets none on LLM outputs): the generated decoder, same result.
        const end = r.delimited();
        const entry = ModelInferResponse_InferOutputTensor_ParametersEntry.decode(r.buf.subarray(r.pos, end));
        if (entry.value !== undefined) t.parameters[entry.key] = entry.value;
        r.pos = end;
        continue;
      }
      case 42: {
        const end = r.delimited();
        t.contents = InferTensorContents.decode(r.buf.subarray(r.pos, end));
        r.pos = end;
        continue;
      }
    }
    if (endsMessage(tag)) break;
    r.skip(tag & 7, tag >>> 3);
  }
  return t;
}
