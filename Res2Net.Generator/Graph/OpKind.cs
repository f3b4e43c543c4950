namespace Res2Net.Generator.Graph
{
    /// <summary>The operations of mmpretrain's Res2Net in eval mode, as PyTorch runs them before any fusion.</summary>
    internal enum OpKind
    {
        Conv,
        BatchNorm,
        Relu,

        /// <summary>Element-wise sum of two values: the hierarchical <c>sp + spx[i]</c>, or the residual <c>out += identity</c>.</summary>
        Add,

        /// <summary><c>torch.split(out, width, 1)</c>: one input, <c>scales</c> outputs.</summary>
        Split,

        /// <summary><c>torch.cat(..., 1)</c>: several inputs, one output.</summary>
        Concat,
        MaxPool,

        /// <summary><c>AvgPool2d</c>; which of PyTorch's two conventions is in <see cref="OpAttributes.Pool"/>.</summary>
        AvgPool,
        GlobalAveragePool,
        Linear,
    }

    internal enum PoolKind
    {
        /// <summary>Stem <c>MaxPool2d(3, 2, 1)</c>.</summary>
        Max,

        /// <summary>Bottle2neck <c>pool</c>: <c>AvgPool2d(3, stride, 1)</c>, padding counted in the divisor.</summary>
        AverageIncludePad,

        /// <summary>avg_down shortcut: <c>AvgPool2d(s, s, ceil_mode=True, count_include_pad=False)</c>.</summary>
        AverageCeilExcludePad,
    }
}
