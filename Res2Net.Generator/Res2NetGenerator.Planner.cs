using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Res2Net.Generator.Model;
using Res2Net.Generator.Planning;

namespace Res2Net.Generator
{
    public sealed partial class Res2NetGenerator
    {
        /// <summary>
        /// Rows of a conv's weights that the GEMM micro-kernel consumes together; packed weights are laid
        /// out in panels of this many output channels. Must equal <c>Res2Net.Runtime.Kernels.Gemm.RowBlock</c>
        /// (a test checks it).
        /// </summary>
        internal const int GemmRowBlock = 4;

        /// <summary>
        /// Lowers a spec to a plan: mmpretrain's Res2Net (ResNet with Bottle2neck blocks, style 'pytorch':
        /// the stride sits on the 3×3 convs), eval mode, with every shape and buffer offset fixed.
        /// </summary>
        /// <exception cref="PlanTooLargeException">A buffer, offset or count does not fit (the parser reports it as RN0012).</exception>
        internal static NetworkPlan Plan(NetworkSpec spec)
        {
            try
            {
                return new PlanBuilder(spec).Build();
            }
            catch (OverflowException)
            {
                // The generator is compiled with overflow checks, so no size or count can wrap around silently; the
                // explicit limits (PlanTooLargeException.Fit) name the buffer, this catches what they do not.
                throw new PlanTooLargeException("a shape, parameter or FLOP count exceeds the range of a 64-bit integer");
            }
        }

        private sealed class PlanBuilder
        {
            private readonly NetworkSpec _spec;
            private readonly List<(long Size, int FirstWrite, int LastRead)> _tensors = new();
            private readonly List<LayerOp> _layers = new();
            private readonly List<StateDictEntry> _stateDict = new();
            private readonly List<FeatureTap> _features = new();
            private long _packed;
            private long _gather;
            private long _params;
            private long _flops;

            public PlanBuilder(NetworkSpec spec) => _spec = spec;

            /// <summary>An activation in the arena, [channels, height, width] for one image.</summary>
            private readonly struct Tensor
            {
                public Tensor(int id, int channels, int height, int width)
                {
                    Id = id;
                    Channels = channels;
                    Height = height;
                    Width = width;
                }

                public int Id { get; }
                public int Channels { get; }
                public int Height { get; }
                public int Width { get; }

                /// <summary>Channels [start, start + count) of this tensor: a split, or a concat slot.</summary>
                public Operand Slice(int start) => new(OperandKind.Arena, Id, PlanTooLargeException.Fit((long)start * Height * Width, "a split's offset"));

                public Operand All => Slice(0);
            }

            public NetworkPlan Build()
            {
                var x = Stem();
                AddFeature(0, "stem", x);

                int inChannels = _spec.StemChannels;
                for (int stage = 0; stage < 4; stage++)
                {
                    int outChannels = _spec.BaseChannels * 4 << stage;
                    int stride = stage == 0 ? 1 : 2;
                    for (int block = 0; block < _spec.Blocks[stage]; block++)
                    {
                        x = Bottle2neck($"layer{stage + 1}.{block}", x, block == 0 ? inChannels : outChannels, outChannels,
                            block == 0 ? stride : 1, isStageBlock: block == 0);
                    }
                    inChannels = outChannels;
                    AddFeature(stage + 1, $"layer{stage + 1}", x);
                }

                var pooled = NewTensor(x.Channels, 1, 1);
                Add(new GlobalPoolOp("neck.gap", "GlobalAveragePool", (long)x.Channels * x.Height * x.Width,
                    x.Channels, x.Height, x.Width, Read(x.All), Write(pooled.All)));

                long fcParams = (long)_spec.NumClasses * x.Channels + _spec.NumClasses;
                int fcWeights = Reserve((long)_spec.NumClasses * x.Channels);
                int fcBias = Reserve(_spec.NumClasses);
                _stateDict.Add(Entry("head.fc.weight", _spec.NumClasses, x.Channels));
                _stateDict.Add(Entry("head.fc.bias", _spec.NumClasses));
                Add(new LinearOp("head.fc", "Head_Fc", fcParams, (long)x.Channels * _spec.NumClasses, "head.fc",
                    x.Channels, _spec.NumClasses, Read(pooled.All), Operand.Logits, fcWeights, fcBias));

                return Resolve();
            }

            private Tensor Stem()
            {
                Tensor s;
                int h = _spec.InputHeight, w = _spec.InputWidth;
                if (_spec.Stem == StemKind.Plain)
                {
                    s = Conv("conv1", "bn1", Operand.Input, null, 3, _spec.StemChannels, 7, 2, 3, h, w, relu: true, residual: null, "conv1 + bn1 + ReLU");
                }
                else
                {
                    int half = _spec.StemChannels / 2;
                    s = Conv("stem.0.conv", "stem.0.bn", Operand.Input, null, 3, half, 3, 2, 1, h, w, relu: true, residual: null, "conv + bn + ReLU");
                    s = Conv("stem.1.conv", "stem.1.bn", Read(s.All), null, half, half, 3, 1, 1, s.Height, s.Width, relu: true, residual: null, "conv + bn + ReLU");
                    s = Conv("stem.2.conv", "stem.2.bn", Read(s.All), null, half, _spec.StemChannels, 3, 1, 1, s.Height, s.Width, relu: true, residual: null, "conv + bn + ReLU");
                }
                return Pool("maxpool", PoolKind.Max, s, 3, 2, 1, "MaxPool2d(3, stride 2, padding 1)");
            }

            /// <summary>
            /// mmpretrain's Bottle2neck. The concat is never assembled: the 3×3 outputs go to consecutive slots of
            /// one buffer, and conv3 takes its last input channels (the untouched last split, or in a 'stage' block
            /// its pooled copy's slot) from wherever they lie.
            /// </summary>
            private Tensor Bottle2neck(string name, Tensor x, int inChannels, int outChannels, int stride, bool isStageBlock)
            {
                int mid = outChannels / 4;
                int width = PlanTooLargeException.Fit((long)mid * _spec.BaseWidth / _spec.BaseChannels, $"{name}'s split width");
                int scales = _spec.Scales;
                PlanTooLargeException.Fit((long)width * scales * x.Height * x.Width, $"{name}.conv1's output");

                var t1 = Conv($"{name}.conv1", $"{name}.bn1", Read(x.All), null, inChannels, width * scales, 1, 1, 0,
                    x.Height, x.Width, relu: true, residual: null, $"conv1 + bn1 + ReLU, then split into {scales} × {width} channels");

                int outH = ConvOut(x.Height, 3, stride, 1), outW = ConvOut(x.Width, 3, stride, 1);
                // A 'stage' block pools its last split into the last slot; a 'normal' block passes it through as is.
                var cat = NewTensor(width * (isStageBlock ? scales : scales - 1), outH, outW);
                for (int i = 0; i < scales - 1; i++)
                {
                    bool add = !isStageBlock && i > 0;
                    string summary = add
                        ? $"convs.{i}(sp + spx[{i}]) + bns.{i} + ReLU, into concat slot {i}"
                        : $"convs.{i}(spx[{i}]) + bns.{i} + ReLU, into concat slot {i}";
                    ConvInto($"{name}.convs.{i}", $"{name}.bns.{i}", Read(t1.Slice(i * width)),
                        add ? Read(cat.Slice((i - 1) * width)) : null, null, 0, width, width, 3, stride, 1, x.Height, x.Width,
                        Write(cat.Slice(i * width)), relu: true, residual: null, summary);
                }
                if (isStageBlock)
                {
                    var last = t1.Slice((scales - 1) * width);
                    PoolInto($"{name}.pool", PoolKind.AverageIncludePad, width, x.Height, x.Width, 3, stride, 1,
                        Read(last), Write(cat.Slice((scales - 1) * width)),
                        $"AvgPool2d(3, stride {stride}, padding 1) of spx[{scales - 1}] into the last concat slot");
                }

                Operand identity;
                if (stride != 1 || inChannels != outChannels)
                {
                    identity = Read(Downsample($"{name}.downsample", x, inChannels, outChannels, stride).All);
                }
                else
                {
                    identity = Read(x.All);
                }

                var y = NewTensor(outChannels, outH, outW);
                ConvInto($"{name}.conv3", $"{name}.bn3", Read(cat.All), null,
                    isStageBlock ? null : Read(t1.Slice((scales - 1) * width)), (scales - 1) * width,
                    width * scales, outChannels, 1, 1, 0, outH, outW, Write(y.All), relu: true, residual: identity,
                    isStageBlock ? "conv3 + bn3 + identity, then ReLU" : $"conv3 + bn3 + identity, then ReLU; channels {(scales - 1) * width}+ are spx[{scales - 1}], read in place");
                return y;
            }

            private Tensor Downsample(string name, Tensor x, int inChannels, int outChannels, int stride)
            {
                if (!_spec.AvgDown)
                {
                    return Conv($"{name}.0", $"{name}.1", Read(x.All), null, inChannels, outChannels, 1, stride, 0,
                        x.Height, x.Width, relu: false, residual: null, $"shortcut: conv 1×1 stride {stride} + BN");
                }
                var source = x;
                if (stride != 1)
                {
                    source = Pool($"{name}.0", PoolKind.AverageCeilExcludePad, x, stride, stride, 0,
                        $"AvgPool2d({stride}, stride {stride}, ceil_mode=True, count_include_pad=False)");
                }
                else
                {
                    // AvgPool2d(1, 1) is the identity; mmcv still counts its input elements as FLOPs.
                    _flops += (long)x.Channels * x.Height * x.Width;
                }
                return Conv($"{name}.1", $"{name}.2", Read(source.All), null, inChannels, outChannels, 1, 1, 0,
                    source.Height, source.Width, relu: false, residual: null, $"shortcut: conv 1×1 + BN" + (stride == 1 ? " (its AvgPool2d(1) is the identity)" : ""));
            }

            private Tensor Conv(string conv, string norm, Operand source, Operand? second, int inChannels, int outChannels,
                int kernel, int stride, int padding, int inH, int inW, bool relu, Operand? residual, string summary)
            {
                var y = NewTensor(outChannels, ConvOut(inH, kernel, stride, padding), ConvOut(inW, kernel, stride, padding));
                ConvInto(conv, norm, source, second, null, 0, inChannels, outChannels, kernel, stride, padding, inH, inW,
                    Write(y.All), relu, residual, summary);
                return y;
            }

            private void ConvInto(string conv, string norm, Operand source, Operand? second, Operand? tail, int tailChannel, int inChannels, int outChannels,
                int kernel, int stride, int padding, int inH, int inW, Operand destination, bool relu, Operand? residual, string summary)
            {
                int outH = ConvOut(inH, kernel, stride, padding), outW = ConvOut(inW, kernel, stride, padding);
                long outNumel = (long)outChannels * outH * outW;
                long convParams = (long)outChannels * inChannels * kernel * kernel;
                long layerParams = convParams + 2L * outChannels;
                long layerFlops = outNumel * inChannels * kernel * kernel + 2 * outNumel + (relu ? outNumel : 0);

                _stateDict.Add(Entry($"backbone.{conv}.weight", outChannels, inChannels, kernel, kernel));
                foreach (var part in new[] { "weight", "bias", "running_mean", "running_var" })
                {
                    _stateDict.Add(Entry($"backbone.{norm}.{part}", outChannels));
                }

                int rows = RoundUp(outChannels, GemmRowBlock);
                int weights = Reserve((long)rows * inChannels * kernel * kernel);
                int bias = Reserve(rows);
                var op = new ConvOp(conv, MethodName(conv), layerParams, layerFlops, summary,
                    $"backbone.{conv}", $"backbone.{norm}", inChannels, outChannels, kernel, stride, padding,
                    inH, inW, outH, outW, Read(source), second == null ? null : Read(second), tail == null ? null : Read(tail), tailChannel,
                    destination, residual == null ? null : Read(residual), relu, weights, bias);
                if (kernel != 1 || stride != 1 || padding != 0 || second != null)
                {
                    // Gathered into the receptive-field matrix before the GEMM (Gemm.Conv's per-thread scratch).
                    _gather = Math.Max(_gather, PlanTooLargeException.Fit((long)inChannels * kernel * kernel * op.GemmN, $"{conv}'s gathered input"));
                }
                Add(op);
            }

            private Tensor Pool(string module, PoolKind kind, Tensor x, int kernel, int stride, int padding, string summary)
            {
                int outH = PoolOut(kind, x.Height, kernel, stride, padding), outW = PoolOut(kind, x.Width, kernel, stride, padding);
                var y = NewTensor(x.Channels, outH, outW);
                PoolInto(module, kind, x.Channels, x.Height, x.Width, kernel, stride, padding, Read(x.All), Write(y.All), summary);
                return y;
            }

            private void PoolInto(string module, PoolKind kind, int channels, int inH, int inW, int kernel, int stride, int padding,
                Operand source, Operand destination, string summary)
            {
                int outH = PoolOut(kind, inH, kernel, stride, padding), outW = PoolOut(kind, inW, kernel, stride, padding);
                Add(new PoolOp(module, MethodName(module), (long)channels * inH * inW, summary, kind, channels, kernel, stride,
                    padding, inH, inW, outH, outW, source, destination));
            }

            private void AddFeature(int index, string name, Tensor x)
            {
                Read(x.All);
                _features.Add(new FeatureTap(index, name, x.All, x.Channels, x.Height, x.Width, _layers.Count - 1));
            }

            private void Add(LayerOp op)
            {
                _layers.Add(op);
                _params += op.Params;
                _flops += op.Flops;
            }

            private Tensor NewTensor(int channels, int height, int width)
            {
                // Written by the layer about to be added.
                _tensors.Add((PlanTooLargeException.Fit((long)channels * height * width, "a layer's output"), _layers.Count, _layers.Count));
                return new Tensor(_tensors.Count - 1, channels, height, width);
            }

            /// <summary>Marks an operand as read by the layer about to be added, extending its tensor's life.</summary>
            private Operand Read(Operand operand)
            {
                if (operand.Kind == OperandKind.Arena)
                {
                    var t = _tensors[operand.Tensor];
                    _tensors[operand.Tensor] = (t.Size, t.FirstWrite, Math.Max(t.LastRead, _layers.Count));
                }
                return operand;
            }

            private Operand Write(Operand operand) => Read(operand);

            private int Reserve(long floats)
            {
                int offset = PlanTooLargeException.Fit(_packed, "the packed weights");
                _packed = RoundUp(_packed + floats, ArenaAllocator.Alignment);
                PlanTooLargeException.Fit(_packed, "the packed weights");
                return offset;
            }

            private static StateDictEntry Entry(string key, params int[] shape) => new(key, shape.ToEquatableArray());

            /// <summary>Replaces tensor-relative operands with arena offsets once liveness has placed every tensor.</summary>
            private NetworkPlan Resolve()
            {
                var (offsets, arena) = ArenaAllocator.Assign(_tensors);
                Operand Fix(Operand o) => o.Kind == OperandKind.Arena ? o with { Offset = offsets[o.Tensor] + o.Offset } : o;
                Operand? FixOpt(Operand? o) => o == null ? null : Fix(o);

                var layers = _layers.Select(layer => layer switch
                {
                    ConvOp c => c with
                    {
                        Source = Fix(c.Source), SecondSource = FixOpt(c.SecondSource), Tail = FixOpt(c.Tail),
                        Destination = Fix(c.Destination), Residual = FixOpt(c.Residual),
                    },
                    PoolOp p => p with { Source = Fix(p.Source), Destination = Fix(p.Destination) },
                    GlobalPoolOp g => g with { Source = Fix(g.Source), Destination = Fix(g.Destination) },
                    LinearOp l => l with { Source = Fix(l.Source) },
                    _ => layer,
                }).ToList();
                var features = _features.Select(f => f with { Source = Fix(f.Source) }).ToList();

                return new NetworkPlan(_spec, layers.ToEquatableArray(), _stateDict.ToEquatableArray(), features.ToEquatableArray(),
                    _params, _flops, PlanTooLargeException.Fit(arena, "the activation arena"), _gather,
                    PlanTooLargeException.Fit(_packed, "the packed weights"));
            }
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

        private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

        private static long RoundUp(long x, int multiple) => (x + multiple - 1) / multiple * multiple;

        /// <summary><c>layer2.0.convs.3</c> → <c>Layer2_0_Convs_3</c>.</summary>
        internal static string MethodName(string module) =>
            string.Join("_", module.Split('.').Select(p => char.ToUpperInvariant(p[0]) + p.Substring(1)));

        internal static string Format(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
    }
}
