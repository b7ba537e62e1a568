/**
 * bench/instructions.ts sums callgrind_annotate's self cost per function into areas: JIT-compiled
 * code (an address with no symbol), V8's compiler, its garbage collector, builtins, runtime, libc
 * and the rest. A line in the wrong area, or one dropped, would misstate where a change went. It
 * also takes out the object literals V8 built in its runtime, which some processes pay for and
 * others do not: a call missed or counted twice would move the comparison of builds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callsInto, instructionsByArea, literalRuntimePattern } from '../../bench/lib/callgrind.js';

const annotated = `--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
1,000,000 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                   file:function
--------------------------------------------------------------------------------
300,000 (30.00%)  ???:0x000000002f4f6440 [???]
200,000 (20.00%)  ???:Builtins_KeyedLoadIC_Megamorphic [/usr/bin/node]
150,000 (15.00%)  ???:v8::internal::compiler::GraphReducer::ReduceTop() [/usr/bin/node]
100,000 (10.00%)  ???:heap::base::SlotCallbackResult v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>(v8::internal::FullHeapObjectSlot, v8::internal::HeapObject) [/usr/bin/node]
 80,000 ( 8.00%)  ???:v8::internal::JsonStringifier::SerializeString(v8::internal::Handle<v8::internal::String>) [/usr/bin/node]
 70,000 ( 7.00%)  ./string/../sysdeps/x86_64/multiarch/memset-vec-unaligned-erms.S:__memset_avx2_unaligned_erms [/usr/lib/x86_64-linux-gnu/libc.so.6]
 60,000 ( 6.00%)  ???:uv__io_poll [/usr/bin/node]
 40,000 ( 4.00%)  ???:v8::internal::Heap::AllocateRaw(int) [/usr/bin/node]
`;

test("sums each function's self cost into its area, and the total is every line but PROGRAM TOTALS", () => {
  const { total, byArea } = instructionsByArea(annotated);
  assert.equal(total, 1_000_000);
  assert.deepEqual(byArea, {
    'JIT compiler': 150_000,
    'garbage collector': 140_000,
    'JIT-compiled JavaScript': 300_000,
    'V8 builtins': 200_000,
    'V8 runtime': 80_000,
    libc: 70_000,
    'Node, libuv and other native code': 60_000,
  });
});

test('an empty dump counts nothing', () => {
  const { total, byArea } = instructionsByArea('--------\n0 (100.0%)  PROGRAM TOTALS\n');
  assert.equal(total, 0);
  assert.ok(Object.values(byArea).every((n) => n === 0));
});

// A dump's call lines as callgrind writes them: a name once, then its id alone; `calls=` and the
// call's inclusive cost on the next line (position first, "+2" being relative).
const dump = `fn=(1) Builtins_InterpreterEntryTrampoline
0 500
cfn=(2) v8::internal::Runtime_DefineKeyedOwnPropertyInLiteral(int, unsigned long*, v8::internal::Isolate*)
calls=40 0
0 48000
cfn=(3) v8::internal::Runtime_DefineKeyedOwnPropertyInLiteralSlow(int)
calls=5 0
0 900
fn=(4) ???:0x000000002f4f6440
0 100
cfn=(2)
calls=60 0
+2 72000
cfn=(5) v8::internal::Runtime_StringToNumber(int, unsigned long*, v8::internal::Isolate*)
calls=7 0
0 700
fn=(2)
0 13000
`;

test('counts the calls into a function and the instructions under them, from every caller', () => {
  assert.deepEqual(callsInto(dump, literalRuntimePattern), { calls: 100, instructions: 120_000 });
  assert.deepEqual(callsInto(dump, /Runtime_StringToNumber\b/), { calls: 7, instructions: 700 });
  assert.deepEqual(callsInto(dump, /Runtime_NotCalled\b/), { calls: 0, instructions: 0 });
});
