using System.Collections.Generic;
using System.Linq;
using Res2Net.Generator.Model;
using Res2Net.Generator.Planning;

namespace Res2Net.Generator.Graph
{
    /// <summary>
    /// Spec → graph: mmpretrain's <c>Res2Net</c> (ResNet with Bottle2neck blocks, style 'pytorch': the stride sits on the
    /// 3×3 convs) in eval mode, op by op as PyTorch runs it, each op with its module name, static shapes and its cost as
    /// mmcv counts it (one FLOP per multiply-accumulate; conv <c>out·Cin·k²</c>, BatchNorm <c>2·numel</c>, ReLU and pools
    /// per element, the head <c>in·out</c>; add, split and cat free). Nothing here is fused or placed: the passes do that.
    /// </summary>
    internal sealed class GraphBuilder
    {
        private readonly NetworkSpec _spec;
        private readonly List<Value> _values = new();
        private readonly List<Node> _nodes = new();
        private readonly List<FeatureTap> _features = new();

        private GraphBuilder(NetworkSpec spec) => _spec = spec;

        /// <exception cref="PlanTooLargeException">A tensor does not fit one buffer.</exception>
        public static NetworkGraph Build(NetworkSpec spec) => new GraphBuilder(spec).Network();

        private NetworkGraph Network()
        {
            int input = NewValue(3, _spec.InputHeight, _spec.InputWidth);
            int x = Stem(input);
            _features.Add(new FeatureTap(0, "stem", x));

            int inChannels = _spec.StemChannels;
            for (int stage = 0; stage < 4; stage++)
            {
                int outChannels = _spec.BaseChannels * 4 << stage;
                for (int block = 0; block < _spec.Blocks[stage]; block++)
                {
                    // mmpretrain's Res2Layer: block 0 is stage_type 'stage' (it carries the stride and the shortcut), the rest 'normal'.
                    x = Bottle2neck($"layer{stage + 1}.{block}", x, block == 0 ? inChannels : outChannels, outChannels,
                        block == 0 && stage > 0 ? 2 : 1, isStageBlock: block == 0);
                }
                inChannels = outChannels;
                _features.Add(new FeatureTap(stage + 1, $"layer{stage + 1}", x));
            }

            var last = _values[x];
            int pooled = NewValue(last.Channels, 1, 1);
            Add(OpKind.GlobalAveragePool, "neck.gap", new[] { x }, pooled, OpAttributes.None, 0, last.Elements);
            int logits = NewValue(_spec.NumClasses, 1, 1);
            Add(OpKind.Linear, "head.fc", new[] { pooled }, logits, new OpAttributes(Key: "head.fc"),
                (long)_spec.NumClasses * last.Channels + _spec.NumClasses, (long)last.Channels * _spec.NumClasses);

            return new NetworkGraph(_values.ToEquatableArray(), _nodes.ToEquatableArray(), _features.ToEquatableArray(), input, logits);
        }

        private int Stem(int image)
        {
            int x;
            if (_spec.Stem == StemKind.Plain)
            {
                x = ConvBnRelu("conv1", "bn1", "relu", image, _spec.StemChannels, 7, 2, 3);
            }
            else
            {
                int half = _spec.StemChannels / 2;
                x = ConvBnRelu("stem.0.conv", "stem.0.bn", "stem.0.activate", image, half, 3, 2, 1);
                x = ConvBnRelu("stem.1.conv", "stem.1.bn", "stem.1.activate", x, half, 3, 1, 1);
                x = ConvBnRelu("stem.2.conv", "stem.2.bn", "stem.2.activate", x, _spec.StemChannels, 3, 1, 1);
            }
            return Pool("maxpool", PoolKind.Max, x, 3, 2, 1);
        }

        /// <summary>mmpretrain's Bottle2neck.forward, step by step.</summary>
        private int Bottle2neck(string name, int x, int inChannels, int outChannels, int stride, bool isStageBlock)
        {
            int mid = outChannels / 4;
            int width = PlanTooLargeException.Fit((long)mid * _spec.BaseWidth / _spec.BaseChannels, $"{name}'s split width");
            int scales = _spec.Scales;
            PlanTooLargeException.Fit((long)width * scales * _values[x].Height * _values[x].Width, $"{name}.conv1's output");

            int t1 = ConvBnRelu($"{name}.conv1", $"{name}.bn1", $"{name}.relu", x, width * scales, 1, 1, 0);
            var spx = Split($"{name} split", t1, scales, width);

            var pieces = new List<int>();
            int sp = -1;
            for (int i = 0; i < scales - 1; i++)
            {
                // 'stage' blocks convolve each split on its own; 'normal' blocks add the previous output first.
                int input = i == 0 || isStageBlock ? spx[i] : Sum($"{name} sp + spx[{i}]", sp, spx[i]);
                sp = ConvBnRelu($"{name}.convs.{i}", $"{name}.bns.{i}", $"{name}.relu", input, width, 3, stride, 1);
                pieces.Add(sp);
            }
            pieces.Add(isStageBlock ? Pool($"{name}.pool", PoolKind.AverageIncludePad, spx[scales - 1], 3, stride, 1) : spx[scales - 1]);
            int cat = Concat($"{name} cat", pieces);

            // The shortcut before conv3 (PyTorch runs it after; the two are independent): conv3's epilogue adds it.
            int identity = stride != 1 || inChannels != outChannels ? Downsample($"{name}.downsample", x, outChannels, stride) : x;
            int y = BatchNorm($"{name}.bn3", Conv($"{name}.conv3", cat, outChannels, 1, 1, 0));
            return Relu($"{name}.relu", Sum($"{name} out + identity", y, identity));
        }

        private int Downsample(string name, int x, int outChannels, int stride)
        {
            if (!_spec.AvgDown) return BatchNorm($"{name}.1", Conv($"{name}.0", x, outChannels, 1, stride, 0));
            // AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False), then a 1×1 conv and BN. At stride 1 the
            // pool is AvgPool2d(1, 1), the identity; it is still a module, and mmcv counts it.
            int pooled = Pool($"{name}.0", PoolKind.AverageCeilExcludePad, x, stride, stride, 0);
            return BatchNorm($"{name}.2", Conv($"{name}.1", pooled, outChannels, 1, 1, 0));
        }

        private int ConvBnRelu(string conv, string norm, string relu, int x, int outChannels, int kernel, int stride, int padding) =>
            Relu(relu, BatchNorm(norm, Conv(conv, x, outChannels, kernel, stride, padding)));

        private int Conv(string module, int x, int outChannels, int kernel, int stride, int padding)
        {
            var v = _values[x];
            int y = NewValue(outChannels, ConvOut(v.Height, kernel, stride, padding), ConvOut(v.Width, kernel, stride, padding));
            long macs = _values[y].Elements * v.Channels * kernel * kernel;
            Add(OpKind.Conv, module, new[] { x }, y, new OpAttributes(kernel, stride, padding, Key: $"backbone.{module}"),
                (long)outChannels * v.Channels * kernel * kernel, macs);
            return y;
        }

        private int BatchNorm(string module, int x)
        {
            var v = _values[x];
            int y = NewValue(v.Channels, v.Height, v.Width);
            Add(OpKind.BatchNorm, module, new[] { x }, y, new OpAttributes(Key: $"backbone.{module}"), 2L * v.Channels, 2 * v.Elements);
            return y;
        }

        private int Relu(string module, int x)
        {
            var v = _values[x];
            int y = NewValue(v.Channels, v.Height, v.Width);
            Add(OpKind.Relu, module, new[] { x }, y, OpAttributes.None, 0, v.Elements);
            return y;
        }

        private int Sum(string module, int a, int b)
        {
            var v = _values[a];
            int y = NewValue(v.Channels, v.Height, v.Width);
            Add(OpKind.Add, module, new[] { a, b }, y, OpAttributes.None, 0, 0);
            return y;
        }

        private int Pool(string module, PoolKind kind, int x, int kernel, int stride, int padding)
        {
            var v = _values[x];
            int y = NewValue(v.Channels, PoolOut(kind, v.Height, kernel, stride, padding), PoolOut(kind, v.Width, kernel, stride, padding));
            Add(kind == PoolKind.Max ? OpKind.MaxPool : OpKind.AvgPool, module, new[] { x }, y,
                new OpAttributes(kernel, stride, padding, kind), 0, v.Elements);
            return y;
        }

        private int[] Split(string module, int x, int parts, int width)
        {
            var v = _values[x];
            var outputs = Enumerable.Range(0, parts).Select(_ => NewValue(width, v.Height, v.Width)).ToArray();
            _nodes.Add(new Node(OpKind.Split, module, new[] { x }.ToEquatableArray(), outputs.ToEquatableArray(), OpAttributes.None, 0, 0, EquatableArray<Fusion>.Empty));
            return outputs;
        }

        private int Concat(string module, IReadOnlyList<int> parts)
        {
            var first = _values[parts[0]];
            int y = NewValue(parts.Sum(p => _values[p].Channels), first.Height, first.Width);
            _nodes.Add(new Node(OpKind.Concat, module, parts.ToEquatableArray(), new[] { y }.ToEquatableArray(), OpAttributes.None, 0, 0, EquatableArray<Fusion>.Empty));
            return y;
        }

        private void Add(OpKind kind, string module, int[] inputs, int output, OpAttributes attributes, long parameters, long flops) =>
            _nodes.Add(new Node(kind, module, inputs.ToEquatableArray(), new[] { output }.ToEquatableArray(), attributes, parameters, flops, EquatableArray<Fusion>.Empty));

        private int NewValue(int channels, int height, int width)
        {
            PlanTooLargeException.Fit((long)channels * height * width, "a layer's output");
            _values.Add(new Value(_values.Count, channels, height, width));
            return _values.Count - 1;
        }

        internal static int ConvOut(int size, int kernel, int stride, int padding) => (size + 2 * padding - kernel) / stride + 1;

        internal static int PoolOut(PoolKind kind, int size, int kernel, int stride, int padding)
        {
            if (kind != PoolKind.AverageCeilExcludePad) return ConvOut(size, kernel, stride, padding);
            // PyTorch's ceil_mode: round up, but a window may not start inside the right padding.
            int o = (size + 2 * padding - kernel + stride - 1) / stride + 1;
            if ((o - 1) * stride >= size + padding) o--;
            return o;
        }
    }
}
