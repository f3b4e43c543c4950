using System.Text.Json;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Res2Net.Tests.Datasets;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>
/// NaN and infinite logits and inputs: the CLI warns on stderr and writes them into JSON as the strings
/// "NaN", "Infinity", "-Infinity" (docs/inference.md) instead of crashing in Utf8JsonWriter after all the work.
/// </summary>
public class NonFiniteOutputTests : IDisposable
{
    private const string W14 = SeededCheckpoint.Model;

    /// <summary>The classifier's biases poisoned: logit 3 is NaN, 7 is +∞ and 11 is −∞ whatever the image.</summary>
    private const int NaNClass = 3, PlusInfinityClass = 7, MinusInfinityClass = 11;

    /// <summary>The seeded weights with those three biases, written once (100 MB, deleted at exit like <see cref="SeededCheckpoint"/>'s).</summary>
    private static readonly Lazy<string> PoisonedCheckpoint = new(WritePoisoned, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly List<string> _temporary = new();

    private string TempDir()
    {
        string dir = TempFolders.Create("res2net-nonfinite-").FullName;
        _temporary.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (string dir in _temporary) Directory.Delete(dir, recursive: true);
    }

    private static string WritePoisoned()
    {
        var info = Res2Net.Models.Res2NetModels.Create(W14).Info;
        var tensors = SeededWeights.StateDict(info).Values.ToList();
        var bias = tensors.Single(t => t.Name == "head.fc.bias");
        var data = bias.Data.ToArray();
        data[NaNClass] = float.NaN;
        data[PlusInfinityClass] = float.PositiveInfinity;
        data[MinusInfinityClass] = float.NegativeInfinity;
        tensors[tensors.IndexOf(bias)] = new CheckpointTensor(bias.Name, bias.Shape, bias.SourceDType, data);
        return SeededCheckpoint.WriteTemporary("poisoned.safetensors", tensors);
    }

    [Fact]
    public void PredictJsonWritesNonFiniteScoresAsStringsAndWarns()
    {
        var info = Res2Net.Models.Res2NetModels.Create(W14).Info;
        string dir = TempDir();
        string clean = Path.Combine(dir, "clean.npy");
        Npy.Write(clean, SeededWeights.Input(info), [3, info.InputHeight, info.InputWidth]);
        // A second input with 2 NaN and 5 infinite values: warned about as such, whatever the network makes of it.
        var bad = SeededWeights.Input(info);
        bad[0] = bad[100] = float.NaN;
        for (int i = 1; i <= 5; i++) bad[i * 1000] = i % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity;
        string poisoned = Path.Combine(dir, "poisoned.npy");
        Npy.Write(poisoned, bad, [3, info.InputHeight, info.InputWidth]);

        var (code, output, err) = CliTests.Run("predict", clean, poisoned, "--model", W14, "--checkpoint", PoisonedCheckpoint.Value, "--json");

        Assert.True(code == 0, err);
        Assert.Contains("poisoned.npy: the input holds 2 NaN and 5 infinite of 150528 values", err);
        Assert.DoesNotContain("clean.npy: the input", err);
        // The clean input's logits hold exactly the three poisoned ones.
        Assert.Contains("clean.npy: the logits hold 1 NaN and 2 infinite of 1000 values", err);
        using var json = JsonDocument.Parse(output);
        var first = json.RootElement[0];
        // +∞ outranks every finite logit; softmax over a +∞ logit is ∞/∞ = NaN for it and NaN (0/NaN) for all the others.
        Assert.Equal(PlusInfinityClass, first.GetProperty("pred_label").GetInt32());
        Assert.Equal("NaN", first.GetProperty("pred_score").GetString());
        var topk = first.GetProperty("topk").EnumerateArray().ToArray();
        Assert.Equal(5, topk.Length);
        Assert.All(topk, t => Assert.Equal("NaN", t.GetProperty("score").GetString()));
        Assert.DoesNotContain(topk, t => t.GetProperty("label").GetInt32() is NaNClass or MinusInfinityClass);
    }

    [Fact]
    public void TestWritesResultsWithNonFiniteScoresAndWarns()
    {
        string results = Path.Combine(TempDir(), "results.json");

        var (code, _, err) = CliTests.Run("test", "--model", W14, "--checkpoint", PoisonedCheckpoint.Value,
            "--data", SeededCheckpoint.DemoDir, "--ann-file", DatasetFixtures.AnnFile("seeded"), "--out", results);

        Assert.True(code == 0, err);
        int images = DatasetFixtures.Images("seeded").Count;
        Assert.Contains($"warning: {images} of {images} images got NaN or infinite scores", err);
        using var json = JsonDocument.Parse(File.ReadAllText(results));
        var samples = json.RootElement.GetProperty("samples").EnumerateArray().ToArray();
        Assert.Equal(images, samples.Length);
        Assert.All(samples, s =>
        {
            Assert.Equal(PlusInfinityClass, s.GetProperty("pred_label").GetInt32());
            Assert.Equal("NaN", s.GetProperty("pred_score").GetString());
            Assert.All(s.GetProperty("scores").EnumerateArray(), x => Assert.Equal("NaN", x.GetString()));
        });
    }
}
