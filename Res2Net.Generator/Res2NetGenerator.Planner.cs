using System;
using System.Globalization;
using Res2Net.Generator.Lowering.Cpu;
using Res2Net.Generator.Model;
using Res2Net.Generator.Planning;

namespace Res2Net.Generator
{
    public sealed partial class Res2NetGenerator
    {
        /// <summary>Must equal <c>Res2Net.Runtime.Kernels.Gemm.RowBlock</c> (a test checks it).</summary>
        internal const int GemmRowBlock = ConvScheduler.RowBlock;

        /// <summary>
        /// Compiles a spec for the CPU, stage by stage: <see cref="Graph.GraphBuilder"/> (spec → the graph PyTorch runs),
        /// <see cref="Passes.PassPipeline"/> (fold, fuse, views), <see cref="Passes.ArenaPlacement"/> (liveness → arena
        /// offsets) and <see cref="CpuLowering"/> (layers, packed weights, a schedule per conv and vector width).
        /// </summary>
        /// <exception cref="PlanTooLargeException">A buffer, offset or count does not fit (the parser reports it as RN0012).</exception>
        internal static CpuProgram Plan(NetworkSpec spec)
        {
            try
            {
                return CpuLowering.Compile(spec);
            }
            catch (OverflowException)
            {
                // The generator is compiled with overflow checks, so no size or count can wrap around silently; the
                // explicit limits (PlanTooLargeException.Fit) name the buffer, this catches what they do not.
                throw new PlanTooLargeException("a shape, parameter or FLOP count exceeds the range of a 64-bit integer");
            }
        }

        internal static string Format(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
    }
}
