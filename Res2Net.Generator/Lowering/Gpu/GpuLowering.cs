using System;
using System.Linq;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Lowering.Cpu;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Lowering.Gpu
{
    /// <summary>
    /// The CPU program's fused graph and placement → device launches. Nothing is re-planned: the passes, the liveness
    /// pass's arena offsets and the packed weights' offsets are the CPU lowering's, so the two backends run one plan and
    /// one weight layout. What is the device's own is the kernel per layer and its tiles: convs with fewer than
    /// <see cref="WideChannels"/> output channels (the 3×3s on narrow splits, the stem) take the narrow CUDA tile, which
    /// spreads the batch's pixels rather than the few channels over the threads.
    /// </summary>
    internal static class GpuLowering
    {
        /// <summary>Output channels from which a conv fills the wide tile's 64 rows.</summary>
        public const int WideChannels = 64;

        public static GpuProgram Compile(CpuProgram cpu)
        {
            var layers = cpu.Layers.Select(Layer).ToEquatableArray();
            var taps = cpu.Taps.Select(t => new GpuTap(t.Index, t.Name, t.AfterLayer, Offset(t.Source), t.Channels * t.Height * t.Width)).ToEquatableArray();
            return new GpuProgram(cpu.Spec, layers, taps, cpu.Placement.ArenaFloats, cpu.PackedFloats, cpu.Flops);
        }

        private static GpuLayer Layer(CpuLayer layer)
        {
            switch (layer)
            {
                case CpuConv c:
                    Operand? Role(string role) => c.Operands.FirstOrDefault(b => b.Role == role)?.Operand;
                    var source = Role("Source")!;
                    return new GpuConv(c.Node, c.Method, c.Shape, source.Kind == OperandKind.Input, Offset(source), Offset(Role("Second")), Offset(Role("Tail")),
                        Offset(Role("Destination")), Offset(Role("Residual")), c.WeightOffset, c.BiasOffset,
                        c.Shape.OutChannels >= WideChannels ? GpuTile.CudaWideTile : GpuTile.CudaNarrowTile, GpuTile.CpuTile);
                case CpuPool p:
                    var a = p.Node.Attributes;
                    return new GpuPool(p.Node, p.Method, a.Pool, p.Channels, p.Height, p.Width, a.Kernel, a.Stride, a.Padding, p.OutHeight, p.OutWidth,
                        Offset(p.Source), Offset(p.Destination));
                case CpuGlobalPool g:
                    return new GpuGlobalPool(g.Node, g.Method, g.Channels, g.Pixels, Offset(g.Source), Offset(g.Destination));
                case CpuLinear l:
                    return new GpuLinear(l.Node, l.Method, l.InFeatures, l.OutFeatures, Offset(l.Source), l.WeightOffset, l.BiasOffset);
                default:
                    throw new InvalidOperationException($"{layer.Node.Module}: no device kernel runs a {layer.GetType().Name}");
            }
        }

        /// <summary>An operand's float offset in one image's arena (or in one input image); 0 when absent.</summary>
        private static int Offset(Operand? o) => o == null || o.Kind != OperandKind.Arena ? 0 : o.Offset;
    }
}
