using System.Reflection;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Export;

/// <summary>
/// Writes a network and its weights as an ONNX model (IR version 7, opset 13), for ONNX Runtime and other
/// engines: input <c>input</c> <c>[batch, 3, H, W]</c> float32 (batch symbolic unless fixed), output
/// <c>logits</c> <c>[batch, classes]</c>. The graph is mmpretrain's Res2Net in eval mode built from Conv, Relu,
/// MaxPool, AveragePool, Split, Add, Concat, GlobalAveragePool, Flatten and Gemm; BatchNorm is folded into the
/// convolutions by default (initializers <c>layer1.0.conv1.weight</c>/<c>.bias</c> then hold folded values),
/// or kept as BatchNormalization nodes with the checkpoint's own tensors and names. The protobuf encoding is
/// written here (no protobuf library), streamed to the output without buffering the model.
/// </summary>
public static class OnnxExporter
{
    public const string InputName = "input";
    public const string OutputName = "logits";
    public const long IrVersion = 7;
    public const long OpsetVersion = 13;
    public const string ProducerName = "Res2Net.NET";

    /// <summary>Exports <paramref name="info"/> with tensors keyed as mmpretrain keys them (<c>backbone.conv1.weight</c>, <c>head.fc.bias</c>, ...).</summary>
    /// <exception cref="StateDictMismatchException">Tensors are missing, unexpected or mis-shaped (all are listed).</exception>
    public static OnnxExportSummary Export(NetworkInfo info, IReadOnlyDictionary<string, CheckpointTensor> mmpretrainTensors, Stream output, OnnxExportOptions? options = null) =>
        Export(info, mmpretrainTensors, "the given tensors", output, options);

    /// <summary>Exports a checkpoint as read by <see cref="CheckpointReader"/>, in mmpretrain's or the official key layout.</summary>
    /// <exception cref="StateDictMismatchException">The checkpoint does not fit the network (all problems are listed).</exception>
    public static OnnxExportSummary Export(NetworkInfo info, StateDict stateDict, Stream output, OnnxExportOptions? options = null) =>
        Export(info, KeyLayout.ToMmpretrain(stateDict, info), stateDict.SourcePath, output, options);

    /// <summary>The model as bytes, e.g. for <c>new InferenceSession(bytes)</c>.</summary>
    public static byte[] ExportToBytes(NetworkInfo info, IReadOnlyDictionary<string, CheckpointTensor> mmpretrainTensors, OnnxExportOptions? options = null)
    {
        using var stream = new MemoryStream();
        Export(info, mmpretrainTensors, stream, options);
        return stream.ToArray();
    }

    private static OnnxExportSummary Export(NetworkInfo info, IReadOnlyDictionary<string, CheckpointTensor> tensors, string source,
        Stream output, OnnxExportOptions? options)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(output);
        options ??= new OnnxExportOptions();
        if (options.BatchSize is < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "a fixed batch size must be at least 1");
        if (string.IsNullOrEmpty(options.BatchDimension)) throw new ArgumentException("the batch dimension needs a name", nameof(options));
        StateDictMismatchException.ThrowIfMismatched(tensors, info, source);

        var builder = new OnnxGraphBuilder(emit: true);
        var logits = new Res2NetOnnxGraph(info, builder, tensors, options.FoldBatchNorm).Build();

        string bn = options.FoldBatchNorm ? "BatchNorm folded into the convolutions" : "BatchNorm as BatchNormalization nodes";
        var graph = new ProtoMessage();
        foreach (var node in builder.Nodes) graph.Message(OnnxProto.Graph.Node, node);
        graph.String(OnnxProto.Graph.Name, info.Name);
        foreach (var tensor in builder.Initializers) graph.Message(OnnxProto.Graph.Initializer, tensor);
        graph.String(OnnxProto.Graph.DocString,
            $"{info.Name}: mmpretrain Res2Net (blocks [{string.Join(", ", info.Blocks)}], base width {info.BaseWidth}, scales {info.Scales}, " +
            $"{info.Stem} stem{(info.AvgDown ? ", avg_down" : "")}), eval mode; {bn}. Input normalized RGB [N, 3, {info.InputHeight}, {info.InputWidth}].");
        graph.Message(OnnxProto.Graph.Input, TensorValueInfo(InputName, options, 3, info.InputHeight, info.InputWidth));
        graph.Message(OnnxProto.Graph.Output, TensorValueInfo(OutputName, options, logits.Channels));

        var model = new ProtoMessage()
            .Int(OnnxProto.Model.IrVersion, IrVersion)
            .String(OnnxProto.Model.ProducerName, ProducerName)
            .String(OnnxProto.Model.ProducerVersion, typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0")
            .String(OnnxProto.Model.DocString, $"{info.Name} exported by {ProducerName} from {Path.GetFileName(source)}.")
            .Message(OnnxProto.Model.Graph, graph)
            .Message(OnnxProto.Model.OpsetImport, new ProtoMessage()
                .String(OnnxProto.OperatorSetId.Domain, "")
                .Int(OnnxProto.OperatorSetId.Version, OpsetVersion))
            .Message(OnnxProto.Model.MetadataProps, Entry("mmpretrain_model", info.Name))
            .Message(OnnxProto.Model.MetadataProps, Entry("batch_norm", options.FoldBatchNorm ? "folded" : "nodes"));

        var writer = new ProtoWriter(output);
        model.WriteTo(writer);
        writer.Flush();
        output.Flush();

        return new OnnxExportSummary(info.Name, writer.Position, builder.NodeCount, builder.Initializers.Count, builder.InitializerFloats,
            builder.MultiplyAccumulates, options.FoldBatchNorm, builder.OpCounts.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    /// <summary>A float tensor's ValueInfoProto: the batch first (symbolic or fixed), then <paramref name="dims"/>.</summary>
    private static ProtoMessage TensorValueInfo(string name, OnnxExportOptions options, params int[] dims)
    {
        var shape = new ProtoMessage();
        shape.Message(OnnxProto.Shape.Dim, options.BatchSize is { } fixedBatch
            ? new ProtoMessage().Int(OnnxProto.Shape.DimValue, fixedBatch)
            : new ProtoMessage().String(OnnxProto.Shape.DimParam, options.BatchDimension));
        foreach (int d in dims) shape.Message(OnnxProto.Shape.Dim, new ProtoMessage().Int(OnnxProto.Shape.DimValue, d));
        var tensorType = new ProtoMessage()
            .Int(OnnxProto.Type.TensorElemType, OnnxProto.Tensor.Float)
            .Message(OnnxProto.Type.TensorShape, shape);
        return new ProtoMessage()
            .String(OnnxProto.ValueInfo.Name, name)
            .Message(OnnxProto.ValueInfo.Type, new ProtoMessage().Message(OnnxProto.Type.TensorType, tensorType));
    }

    private static ProtoMessage Entry(string key, string value) =>
        new ProtoMessage().String(OnnxProto.StringStringEntry.Key, key).String(OnnxProto.StringStringEntry.Value, value);
}

/// <summary>How <see cref="OnnxExporter"/> writes the model.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Fold each BatchNorm into the conv before it (default): fewer nodes, what ONNX Runtime would do anyway.</summary>
    public bool FoldBatchNorm { get; init; } = true;

    /// <summary>A fixed batch size; null (default) declares a symbolic batch dimension named <see cref="BatchDimension"/>.</summary>
    public int? BatchSize { get; init; }

    /// <summary>The name of the symbolic batch dimension.</summary>
    public string BatchDimension { get; init; } = "batch";
}

/// <summary>What was exported.</summary>
/// <param name="Model">The network's name.</param>
/// <param name="Bytes">Size of the ONNX model written.</param>
/// <param name="Nodes">Graph nodes.</param>
/// <param name="Initializers">Weight tensors stored in the graph.</param>
/// <param name="InitializerFloats">Values in those tensors.</param>
/// <param name="MultiplyAccumulates">Of the Conv and Gemm nodes, for one image.</param>
/// <param name="BatchNormFolded">Whether BatchNorm was folded into the convolutions.</param>
/// <param name="OperatorCounts">Nodes per ONNX operator.</param>
public sealed record OnnxExportSummary(
    string Model,
    long Bytes,
    int Nodes,
    int Initializers,
    long InitializerFloats,
    long MultiplyAccumulates,
    bool BatchNormFolded,
    IReadOnlyDictionary<string, int> OperatorCounts);

/// <summary>Arithmetic of a network, counted on the graph the exporter builds (no weights needed).</summary>
public static class NetworkCost
{
    /// <summary>
    /// Multiply-accumulates of the convolutions and the classifier for one image: the arithmetic that bounds
    /// speed (BatchNorm, ReLU and pooling, which mmcv's FLOP count adds, are left out). Twice this is the FLOPs.
    /// </summary>
    public static long ConvAndLinearMacs(NetworkInfo info)
    {
        var builder = new OnnxGraphBuilder(emit: false);
        new Res2NetOnnxGraph(info, builder, tensors: null, foldBatchNorm: true).Build();
        return builder.MultiplyAccumulates;
    }
}
