using Microsoft.CodeAnalysis;
using Res2Net.Generator;
using Res2Net.Models;
using Xunit;

namespace Res2Net.Tests.Generator;

/// <summary>The generated counts against mmpretrain's model zoo and the planner's invariants.</summary>
public class PlanTests
{
    /// <summary>Parameters and FLOPs as mmpretrain's model zoo (mmcv's counter) reports them for the seed models.</summary>
    [Theory]
    [InlineData("res2net50-w14-s8_3rdparty_8xb32_in1k", 25_059_816L, 4_218_325_520L, "25.06M", "4.22G")]
    [InlineData("res2net50-w26-s8_3rdparty_8xb32_in1k", 48_403_776L, 8_389_489_328L, "48.40M", "8.39G")]
    [InlineData("res2net101-w26-s4_3rdparty_8xb32_in1k", 45_206_688L, 8_122_074_768L, "45.21M", "8.12G")]
    public void SeedModelCountsEqualMmpretrain(string name, long parameters, long flops, string paramsText, string flopsText)
    {
        var info = Res2NetModels.All.Single(m => m.Name == name);
        Assert.Equal(parameters, info.Params);
        Assert.Equal(flops, info.Flops);
        Assert.Equal(paramsText, info.ParamsMillions);
        Assert.Equal(flopsText, info.FlopsGiga);
        Assert.Equal(info.Params, info.Layers.Sum(l => l.Params));
    }

    /// <summary>The tiny test networks' counts equal those PyTorch's module hooks gave (params-flops.json).</summary>
    [Theory]
    [InlineData("tiny-plain")]
    [InlineData("tiny-deep")]
    public void TinyNetworkCountsEqualPyTorch(string name)
    {
        var expected = Fixtures.ParamsFlops(name);
        var info = Res2Net.Tests.Networks.Res2NetModels.All.Single(m => m.Name == name);
        Assert.Equal(expected.Params, info.Params);
        Assert.Equal(expected.Flops, info.Flops);
    }

    /// <summary>The generator writes the schedule enums' member names into generated code: they must be the runtime's.</summary>
    [Fact]
    public void ScheduleEnumsMatchTheRuntimeContract()
    {
        Assert.Equal(Enum.GetNames<Res2Net.Runtime.Kernels.Layers.ThreadSplit>(), Enum.GetNames<Res2Net.Generator.Lowering.Cpu.ThreadSplit>());
        Assert.Equal(Enum.GetNames<Res2Net.Runtime.Kernels.Layers.GemmInput>(), Enum.GetNames<Res2Net.Generator.Lowering.Cpu.GemmInput>());
        Assert.Equal(Enum.GetNames<Res2Net.Runtime.Kernels.Layers.GemmRemainder>(), Enum.GetNames<Res2Net.Generator.Lowering.Cpu.GemmRemainder>());
    }

    [Fact]
    public void PackedWeightPanelsMatchTheRuntimeKernel() =>
        Assert.Equal(Res2Net.Runtime.Kernels.Gemm.RowBlock, Res2Net.Generator.Res2NetGenerator.GemmRowBlock);

    [Fact]
    public void PixelsAcrossPanelsLimitMatchesTheRuntimeKernel() =>
        Assert.Equal(Res2Net.Runtime.Kernels.Gemm.MaxPixelsAcrossPanels, Res2Net.Generator.Lowering.Cpu.ConvScheduler.MaxPixelsAcrossPanels);

    [Fact]
    public void StateDictTableMatchesTheCheckpointKeysPyTorchWrote()
    {
        var expected = Fixtures.StateDictShapes("tiny-deep")
            .Where(kv => !kv.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        var table = Res2Net.Tests.Networks.TinyDeep.Description.StateDict.ToDictionary(e => e.Key, e => e.Shape.ToArray());
        Assert.Equal(expected.Keys.OrderBy(k => k), table.Keys.OrderBy(k => k));
        foreach (var (key, shape) in expected) Assert.Equal(shape, table[key]);
    }

    /// <summary>
    /// A reformatted spec means the same network, but its file's SHA-256, which the generated header states, changed.
    /// So that spec alone is parsed, planned and emitted again, and its class differs only in the hash line; the other
    /// spec is neither planned nor emitted again, and its file stays as it was.
    /// </summary>
    [Fact]
    public void AReformattedSpecIsPlannedAgainAloneAndOnlyItsHeaderChanges()
    {
        string Read(string name) => File.ReadAllText(GeneratorRunner.RepoFile("networks", name + ".json"));
        var edited = new GeneratorRunner.InMemoryText("networks/res2net50-w14-s8.json", Read("res2net50-w14-s8"));
        var reformatted = new GeneratorRunner.InMemoryText("networks/res2net50-w14-s8.json", Read("res2net50-w14-s8").Replace("\n", "\n\n    "));
        var other = new GeneratorRunner.InMemoryText("networks/res2net50-w26-s8.json", Read("res2net50-w26-s8"));
        GeneratorDriver driver = Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create(
            new[] { new Res2NetGenerator().AsSourceGenerator() }, new AdditionalText[] { edited, other }, optionsProvider: GeneratorRunner.SpecOptions(),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create("Specs");
        driver = driver.RunGenerators(compilation);
        var before = driver.GetRunResult().GeneratedTrees.ToDictionary(t => Path.GetFileName(t.FilePath), t => t.GetText().ToString());

        driver = driver.ReplaceAdditionalText(edited, reformatted).RunGenerators(compilation);
        var run = driver.GetRunResult();
        var result = run.Results.Single();

        var parse = result.TrackedSteps[Res2NetGenerator.TrackingNames.Parse].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
        var plan = result.TrackedSteps[Res2NetGenerator.TrackingNames.Plan].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
        Assert.Equal(1, parse.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(1, parse.Count(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
        Assert.Equal(1, plan.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(1, plan.Count(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));

        var after = run.GeneratedTrees.ToDictionary(t => Path.GetFileName(t.FilePath), t => t.GetText().ToString());
        Assert.Equal(before["Res2Net50W26S8.g.cs"], after["Res2Net50W26S8.g.cs"]);
        string[] old = before["Res2Net50W14S8.g.cs"].Split('\n'), now = after["Res2Net50W14S8.g.cs"].Split('\n');
        Assert.Equal(old.Length, now.Length);
        var changed = Enumerable.Range(0, old.Length).Where(i => old[i] != now[i]).ToArray();
        int hashLine = Assert.Single(changed);
        Assert.Equal($"// Spec SHA-256: {GeneratedFileHeaderTests.Sha256(reformatted.GetText().ToString())} (of its text as UTF-8; sha256sum of the file if it has no byte-order mark).", now[hashLine]);
    }

    [Fact]
    public void UnchangedSpecIsNotPlannedOrEmittedAgain()
    {
        string path = GeneratorRunner.RepoFile("networks", "res2net50-w14-s8.json");
        var spec = ("networks/res2net50-w14-s8.json", File.ReadAllText(path));
        GeneratorRunner.Run(out var driver, spec);
        var second = driver.RunGenerators(Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create("Specs")).GetRunResult();
        var outputs = second.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs);
        Assert.All(outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    [Fact]
    public void SpecPreprocessingAndClassNamesReachTheNetwork()
    {
        var deep = Res2Net.Tests.Networks.TinyDeep.Description.Preprocess;
        Assert.Equal((52, 45, 37), (deep.ResizeEdge, deep.CropHeight, deep.CropWidth));
        Assert.Equal(new[] { 127.5f, 127.5f, 127.5f }, deep.Mean);
        Assert.Equal(new[] { 64f, 64f, 64f }, deep.Std);
        Assert.Null(Res2Net.Tests.Networks.TinyDeep.Description.ClassNames);

        var plain = Res2Net.Tests.Networks.TinyPlain.Description;
        Assert.Equal(48, plain.Preprocess.ResizeEdge); // max(40 · 256 / 224, 48): the crop's long side must fit
        Assert.Equal("truck", plain.ClassNames![9]);
    }

    [Fact]
    public void SeedModelsUseMmpretrainsImageNetPipeline()
    {
        foreach (var info in Res2NetModels.All)
        {
            var p = info.Preprocess;
            Assert.Equal((256, 224, 224), (p.ResizeEdge, p.CropHeight, p.CropWidth));
            Assert.Equal(new[] { 123.675f, 116.28f, 103.53f }, p.Mean);
            Assert.Equal(new[] { 58.395f, 57.12f, 57.375f }, p.Std);
        }
    }
}
