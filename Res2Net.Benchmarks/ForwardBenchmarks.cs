using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Export;
using Res2Net.Runtime.Kernels;
using Res2Net.Runtime.Networks;

namespace Res2Net.Benchmarks;

/// <summary>
/// One forward of <see cref="Batch"/> images: the compiled network (<see cref="Workers.MaxThreads"/> = 2) against
/// ONNX Runtime (all graph optimizations, 2 intra-op threads, 1 inter-op) running the same network exported by <see cref="OnnxExporter"/>, on the same seeded weights
/// and input. Setup checks that the two agree before anything is timed. ONNX Runtime is the baseline, so the Ratio
/// column is ours / ONNX Runtime.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ForwardConfig))]
public class ForwardBenchmarks
{
    /// <summary>Each engine is within 2e-3 of PyTorch on these networks (the product's promise), so within 4e-3 of each other.</summary>
    public const double AgreementTolerance = 4e-3;

    /// <summary>Threads for both engines.</summary>
    public const int Threads = 2;

    private CompiledNetwork _network = null!;
    private float[] _input = null!;
    private float[] _ours = null!;
    private float[] _theirs = null!;
    private InferenceSession _session = null!;
    private RunOptions _runOptions = null!;
    private OrtValue[] _inputs = null!;
    private OrtValue[] _outputs = null!;
    private readonly string[] _inputNames = { OnnxExporter.InputName };
    private readonly string[] _outputNames = { OnnxExporter.OutputName };

    /// <summary>The seed networks, by class name (shorter in tables than the mmpretrain names).</summary>
    public static IEnumerable<string> Models => Res2NetModels.All.Select(m => m.ClassName);

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "";

    [Params(1, 8)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Workers.MaxThreads = Threads;
        _network = Res2NetModels.Create(Model);
        var info = _network.Info;
        var weights = SeededWeights.StateDict(info);
        _network.Load(weights, "seeded");
        _input = SeededWeights.Input(info, Batch);
        _ours = new float[Batch * info.NumClasses];
        _theirs = new float[Batch * info.NumClasses];

        using (var options = new SessionOptions
               {
                   GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                   IntraOpNumThreads = Threads,
                   InterOpNumThreads = 1,
                   ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
               })
        {
            _session = new InferenceSession(OnnxExporter.ExportToBytes(info, weights), options);
        }
        _runOptions = new RunOptions();
        _inputs = new[] { OrtValue.CreateTensorValueFromMemory(_input, new long[] { Batch, 3, info.InputHeight, info.InputWidth }) };
        _outputs = new[] { OrtValue.CreateTensorValueFromMemory(_theirs, new long[] { Batch, info.NumClasses }) };

        Ours();
        OnnxRuntime();
        double diff = 0;
        for (int i = 0; i < _ours.Length; i++) diff = Math.Max(diff, Math.Abs((double)_ours[i] - _theirs[i]));
        if (!(diff <= AgreementTolerance))
        {
            throw new InvalidOperationException(
                $"{info.Name}, batch {Batch}: our logits and ONNX Runtime's disagree (max |diff| = {diff:E2} > {AgreementTolerance:E0}); refusing to time a wrong result.");
        }
        Console.WriteLine($"// {info.Name}, batch {Batch}: outputs agree, max |ours - ONNX Runtime| = {diff:E2}");
    }

    [Benchmark(Description = "Ours")]
    public void Ours() => _network.Forward(_input, Batch, _ours);

    [Benchmark(Baseline = true, Description = "OnnxRuntime")]
    public void OnnxRuntime() => _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var v in _inputs.Concat(_outputs)) v.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
