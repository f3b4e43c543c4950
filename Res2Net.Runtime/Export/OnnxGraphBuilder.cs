namespace Res2Net.Runtime.Export;

/// <summary>
/// Builds an ONNX graph node by node while tracking every value's shape (per image; the batch is the first,
/// possibly symbolic, dimension) and counting the multiply-accumulates of Conv and Gemm. In shape-only mode it
/// only tracks and counts, which is how <see cref="NetworkCost"/> measures a network without weights.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly bool _emit;
    private readonly List<ProtoMessage> _nodes = new();
    private readonly List<ProtoMessage> _initializers = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _opCounts = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(bool emit)
    {
        _emit = emit;
    }

    /// <summary>A value flowing between nodes: <c>[N, Channels, Height, Width]</c>, or <c>[N, Channels]</c> when flat.</summary>
    public readonly record struct Value(string Name, int Channels, int Height, int Width, bool Flat = false);

    public IReadOnlyList<ProtoMessage> Nodes => _nodes;

    public IReadOnlyList<ProtoMessage> Initializers => _initializers;

    /// <summary>Nodes per operator type.</summary>
    public IReadOnlyDictionary<string, int> OpCounts => _opCounts;

    /// <summary>Multiply-accumulates of all Conv and Gemm nodes for one image.</summary>
    public long MultiplyAccumulates { get; private set; }

    /// <summary>Floats stored in initializers.</summary>
    public long InitializerFloats { get; private set; }

    public int NodeCount { get; private set; }

    /// <summary>Declares the graph input (not a node); the name is reserved.</summary>
    public Value Input(string name, int channels, int height, int width)
    {
        Reserve(name);
        return new Value(name, channels, height, width);
    }

    /// <summary>A float initializer. <paramref name="data"/> may be null in shape-only mode.</summary>
    public string Initializer(string name, int[] dims, float[]? data)
    {
        Reserve(name);
        long count = dims.Aggregate(1L, (a, b) => a * b);
        InitializerFloats += count;
        if (!_emit) return name;
        if (data == null || data.LongLength != count) throw new InvalidOperationException($"initializer {name}: expected {count} values");
        var tensor = new ProtoMessage()
            .Ints(OnnxProto.Tensor.Dims, dims.Select(d => (long)d))
            .Int(OnnxProto.Tensor.DataType, OnnxProto.Tensor.Float)
            .String(OnnxProto.Tensor.Name, name)
            .FloatBytes(OnnxProto.Tensor.RawData, data);
        _initializers.Add(tensor);
        return name;
    }

    /// <summary>Conv with square kernel, symmetric padding, no dilation or groups; bias optional.</summary>
    public Value Conv(Value x, string name, string weight, int[] weightShape, string? bias, int stride, int pad)
    {
        int cout = weightShape[0], cin = weightShape[1], k = weightShape[2];
        if (cin != x.Channels || weightShape[3] != k)
            throw new InvalidOperationException($"{name}: weight [{string.Join(", ", weightShape)}] does not fit input {x.Channels} channels");
        int h = (x.Height + 2 * pad - k) / stride + 1;
        int w = (x.Width + 2 * pad - k) / stride + 1;
        MultiplyAccumulates += (long)cout * h * w * cin * k * k;
        var inputs = bias == null ? new[] { x.Name, weight } : new[] { x.Name, weight, bias };
        Node("Conv", name, inputs,
            Ints("kernel_shape", k, k), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad),
            Ints("dilations", 1, 1), Int("group", 1));
        return new Value(name, cout, h, w);
    }

    /// <summary>Inference-mode BatchNormalization.</summary>
    public Value BatchNormalization(Value x, string name, string scale, string bias, string mean, string variance, float epsilon)
    {
        Node("BatchNormalization", name, new[] { x.Name, scale, bias, mean, variance }, Float("epsilon", epsilon));
        return x with { Name = name };
    }

    public Value Relu(Value x, string name)
    {
        Node("Relu", name, new[] { x.Name });
        return x with { Name = name };
    }

    public Value Add(Value a, Value b, string name)
    {
        if (a.Channels != b.Channels || a.Height != b.Height || a.Width != b.Width)
            throw new InvalidOperationException($"{name}: cannot add [{a.Channels}, {a.Height}, {a.Width}] and [{b.Channels}, {b.Height}, {b.Width}]");
        Node("Add", name, new[] { a.Name, b.Name });
        return a with { Name = name };
    }

    /// <summary>Splits the channels into <paramref name="parts"/> equal groups (opset 13 Split without a <c>split</c> input).</summary>
    public Value[] Split(Value x, int parts, string name)
    {
        if (x.Channels % parts != 0) throw new InvalidOperationException($"{name}: {x.Channels} channels do not split into {parts} equal parts");
        var outputs = Enumerable.Range(0, parts).Select(i => x with { Name = $"{name}.{i}", Channels = x.Channels / parts }).ToArray();
        Node("Split", name, new[] { x.Name }, outputs.Select(o => o.Name).ToArray(), Int("axis", 1));
        return outputs;
    }

    public Value Concat(IReadOnlyList<Value> xs, string name)
    {
        Node("Concat", name, xs.Select(v => v.Name).ToArray(), Int("axis", 1));
        return xs[0] with { Name = name, Channels = xs.Sum(v => v.Channels) };
    }

    public Value MaxPool(Value x, string name, int kernel, int stride, int pad)
    {
        Node("MaxPool", name, new[] { x.Name },
            Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad), Int("ceil_mode", 0));
        return x with { Name = name, Height = PoolSize(x.Height, kernel, stride, pad, false), Width = PoolSize(x.Width, kernel, stride, pad, false) };
    }

    public Value AveragePool(Value x, string name, int kernel, int stride, int pad, bool ceilMode, bool countIncludePad)
    {
        Node("AveragePool", name, new[] { x.Name },
            Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad),
            Int("ceil_mode", ceilMode ? 1 : 0), Int("count_include_pad", countIncludePad ? 1 : 0));
        return x with { Name = name, Height = PoolSize(x.Height, kernel, stride, pad, ceilMode), Width = PoolSize(x.Width, kernel, stride, pad, ceilMode) };
    }

    public Value GlobalAveragePool(Value x, string name)
    {
        Node("GlobalAveragePool", name, new[] { x.Name });
        return x with { Name = name, Height = 1, Width = 1 };
    }

    public Value Flatten(Value x, string name)
    {
        Node("Flatten", name, new[] { x.Name }, Int("axis", 1));
        return new Value(name, x.Channels * x.Height * x.Width, 1, 1, Flat: true);
    }

    /// <summary><c>x · Wᵀ + b</c> with W stored <c>[out, in]</c> as PyTorch's Linear keeps it.</summary>
    public Value Gemm(Value x, string name, string weight, int[] weightShape, string bias)
    {
        if (!x.Flat || weightShape[1] != x.Channels) throw new InvalidOperationException($"{name}: weight [{string.Join(", ", weightShape)}] does not fit input {x.Channels}");
        MultiplyAccumulates += (long)weightShape[0] * weightShape[1];
        Node("Gemm", name, new[] { x.Name, weight, bias }, Float("alpha", 1f), Float("beta", 1f), Int("transA", 0), Int("transB", 1));
        return new Value(name, weightShape[0], 1, 1, Flat: true);
    }

    /// <summary>PyTorch's pooling output size: with ceil_mode the last window must still start inside the input or its left padding.</summary>
    public static int PoolSize(int size, int kernel, int stride, int pad, bool ceilMode)
    {
        int span = size + 2 * pad - kernel;
        int n = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceilMode && (n - 1) * stride >= size + pad) n--;
        return n;
    }

    private void Node(string opType, string name, string[] inputs, params ProtoMessage[] attributes) =>
        Node(opType, name, inputs, new[] { name }, attributes);

    private void Node(string opType, string name, string[] inputs, string[] outputs, params ProtoMessage[] attributes)
    {
        Reserve(name);
        foreach (var o in outputs) if (o != name) Reserve(o);
        NodeCount++;
        _opCounts[opType] = _opCounts.GetValueOrDefault(opType) + 1;
        if (!_emit) return;
        var node = new ProtoMessage();
        foreach (var i in inputs) node.String(OnnxProto.Node.Input, i);
        foreach (var o in outputs) node.String(OnnxProto.Node.Output, o);
        node.String(OnnxProto.Node.Name, name).String(OnnxProto.Node.OpType, opType);
        foreach (var a in attributes) node.Message(OnnxProto.Node.Attribute, a);
        _nodes.Add(node);
    }

    private void Reserve(string name)
    {
        if (!_names.Add(name)) throw new InvalidOperationException($"ONNX graph: the name '{name}' is used twice");
    }

    private ProtoMessage Int(string name, long value) =>
        new ProtoMessage().String(OnnxProto.Attribute.Name, name).Int(OnnxProto.Attribute.I, value).Int(OnnxProto.Attribute.Type, OnnxProto.Attribute.TypeInt);

    private ProtoMessage Float(string name, float value) =>
        new ProtoMessage().String(OnnxProto.Attribute.Name, name).Float(OnnxProto.Attribute.F, value).Int(OnnxProto.Attribute.Type, OnnxProto.Attribute.TypeFloat);

    private ProtoMessage Ints(string name, params long[] values) =>
        new ProtoMessage().String(OnnxProto.Attribute.Name, name).Ints(OnnxProto.Attribute.Ints, values).Int(OnnxProto.Attribute.Type, OnnxProto.Attribute.TypeInts);
}
