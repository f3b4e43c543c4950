using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Res2Net.Generator.Emitting;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Tests.Cli;
using Res2Net.Tests.Datasets;
using Res2Net.Tests.Forward;
using Res2Net.Tests.Generator;
using Res2Net.Tests.Inference;
using Xunit;
using Xunit.Abstractions;

namespace Res2Net.Tests.Packaging;

/// <summary>
/// The product outside this repository: the packages as <c>dotnet pack</c> makes them, a project in a temporary folder
/// that references them by PackageReference from a local feed and gets a working network from its own JSON spec
/// (the sample samples/FlowerClassifier, compared with PyTorch), a broken spec failing that project's build with our
/// diagnostic at the JSON's line and column, and the <c>res2net</c> tool installed from the feed.
/// </summary>
/// <remarks>
/// The packages are packed once for the class (<see cref="PackageFeed"/>). Every restore goes to a private package
/// folder; the tests check that nothing of theirs reached the user's cache. Each test logs its steps' times.
/// </remarks>
public class PackagingTests(PackageFeed feed, ITestOutputHelper log) : IClassFixture<PackageFeed>
{
    private const string Sample = "FlowerClassifier";

    [Fact]
    public void ThePackagesHoldWhatTheirUsersNeedAtOneVersion()
    {
        log.WriteLine($"dotnet pack --no-build of the solution: {feed.Pack.Elapsed.TotalSeconds:F1} s");
        string v = feed.Version;

        // The generator is an analyzer with build files, no library; it brings the runtime of exactly its version.
        var generator = Package("Res2Net.Generator");
        Assert.Contains("analyzers/dotnet/cs/Res2Net.Generator.dll", generator.Files);
        Assert.Contains("build/Res2Net.Generator.props", generator.Files);
        Assert.Contains("build/Res2Net.Generator.targets", generator.Files);
        Assert.DoesNotContain(generator.Files, f => f.StartsWith("lib/", StringComparison.Ordinal) && f.EndsWith(".dll", StringComparison.Ordinal));
        Assert.Equal(new[] { ("net10.0", "Res2Net.Runtime", $"[{v}]") }, generator.Dependencies);

        // The models hold their compiled networks and need the runtime of their version, not the generator.
        var models = Package("Res2Net.Models");
        Assert.Contains("lib/net10.0/Res2Net.Models.dll", models.Files);
        Assert.Contains(("net10.0", "Res2Net.Runtime", $"[{v}]"), models.Dependencies);
        Assert.DoesNotContain(models.Dependencies, d => d.Id == "Res2Net.Generator");

        var runtime = Package("Res2Net.Runtime");
        Assert.Contains("lib/net10.0/Res2Net.Runtime.dll", runtime.Files);
        Assert.Contains("LICENSE-DejaVu.txt", runtime.Files); // the embedded font's license travels with it

        // The tool: a main package naming the linux-x64 one, which holds the program and only that platform's libraries.
        var tool = Package("res2net");
        Assert.Equal("DotnetTool", tool.Nuspec.Descendants().Single(e => e.Name.LocalName == "packageType").Attribute("name")!.Value);
        var settings = XDocument.Parse(tool.Read("tools/any/any/DotnetToolSettings.xml"));
        Assert.Equal("res2net", settings.Descendants("Command").Single().Attribute("Name")!.Value);
        var rid = settings.Descendants("RuntimeIdentifierPackage").Single();
        Assert.Equal(("linux-x64", "res2net.linux-x64"), (rid.Attribute("RuntimeIdentifier")!.Value, rid.Attribute("Id")!.Value));
        var linux = Package("res2net.linux-x64");
        foreach (string file in new[] { "res2net.dll", "libSkiaSharp.so", "libonnxruntime.so" })
        {
            Assert.Contains("tools/net10.0/linux-x64/" + file, linux.Files);
        }
        Assert.DoesNotContain(linux.Files, f => f.Contains("/runtimes/", StringComparison.Ordinal));

        foreach (var p in new[] { generator, models, runtime, tool, linux })
        {
            Assert.Equal(v, p.Metadata("version"));
            Assert.Equal("Apache-2.0", p.Metadata("license"));
            Assert.Equal("README.md", p.Metadata("readme"));
            Assert.Contains("README.md", p.Files);
            Assert.False(string.IsNullOrWhiteSpace(p.Metadata("description")), p.Id);
        }
    }

    /// <summary>
    /// samples/FlowerClassifier, copied to a temporary folder with the feed's version in its PackageReference, restores
    /// and builds (warnings as errors) from the packages alone, and its program, run on the four demo photos with the
    /// seeded weights of its network, prints PyTorch's logits (within 2e-3), classes and feature shapes
    /// (tools/reference/make_sample_fixtures.py). The generated file is on disk with its header. Then a spec that
    /// says <c>"scales": 1</c> fails the build with RN0006 at that value's line and column.
    /// </summary>
    [Fact]
    public void AProjectOutsideTheRepositoryGetsAWorkingNetworkFromItsSpecAndThePackages()
    {
        string project = CopySample();
        string spec = Path.Combine(project, "networks", "flowers.json");

        var build = DotnetCommand.Dotnet(project, feed.Packages, null, "build", "-c", "Release", "-p:TreatWarningsAsErrors=true");
        log.WriteLine($"consumer restore and build: {build.Elapsed.TotalSeconds:F1} s");
        Assert.True(build.ExitCode == 0, build.Tail());
        Assert.False(Directory.Exists(Path.Combine(PackageFeed.UserPackages, "res2net.generator", feed.Version)), "the restore wrote to the user's package cache");

        // The generated class is on disk (EmitCompilerGeneratedFiles) and says where it came from.
        string generated = Directory.GetFiles(Path.Combine(project, "obj"), "FlowerNet.g.cs", SearchOption.AllDirectories).Single();
        string header = string.Join('\n', File.ReadLines(generated).Take(3));
        Assert.Contains($"Generated by Res2Net.Generator {GeneratedFileHeader.GeneratorVersion} from flowers.json, the spec of flowers-res2net50-v1b-26w-4s.", header);
        Assert.Contains($"Spec SHA-256: {GeneratedFileHeaderTests.Sha256(File.ReadAllBytes(spec))} ", header);

        // The network's seeded weights, which make_sample_fixtures.py gave the PyTorch network too.
        string checkpoint = Path.Combine(TempFolders.Create("res2net-flowers-").FullName, "flowers.safetensors");
        SafetensorsWriter.Write(checkpoint, SeededWeights.StateDict(Res2Net.Tests.Networks.FlowerNet.Description).Values);
        using var expected = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("sample", "flowers.json")));
        var images = expected.RootElement.GetProperty("images").EnumerateArray().ToArray();
        var (pyTorch, shape) = Fixtures.Npy("sample", "flowers.logits.npy");
        string[] classes = Res2Net.Tests.Networks.FlowerNet.Description.ClassNames!.ToArray();
        Assert.Equal(new[] { images.Length, classes.Length }, shape);

        string program = Directory.GetFiles(Path.Combine(project, "bin", "Release"), Sample + ".dll", SearchOption.AllDirectories).Single();
        var paths = images.Select(i => Fixtures.Path("images", "demo", i.GetProperty("file").GetString()!)).ToArray();
        var run = DotnetCommand.Dotnet(project, feed.Packages, null, [program, checkpoint, .. paths]);
        log.WriteLine($"consumer run (load, 4 images): {run.Elapsed.TotalSeconds:F1} s");
        Assert.True(run.ExitCode == 0, run.Tail());

        var lines = run.StandardOutput.Split('\n');
        for (int n = 0; n < images.Length; n++)
        {
            int at = Array.FindIndex(lines, l => l.StartsWith(paths[n] + ": ", StringComparison.Ordinal));
            Assert.True(at >= 0, $"no result for {paths[n]} in:\n{run.Output}");
            Assert.StartsWith($"{paths[n]}: {images[n].GetProperty("class").GetString()} (", lines[at]);
            var logits = lines.Skip(at + 1).Take(classes.Length).Select(l => Regex.Match(l, @"^\s+(\S+)\s+score\s+\S+\s+logit\s+(\S+)$"))
                .ToDictionary(m => m.Groups[1].Value, m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            for (int c = 0; c < classes.Length; c++)
            {
                double diff = Math.Abs(logits[classes[c]] - pyTorch[n * classes.Length + c]);
                Assert.True(diff <= Tolerances.LogitsAbsolute, $"{paths[n]} {classes[c]}: logit {logits[classes[c]]} vs PyTorch {pyTorch[n * classes.Length + c]}");
            }
        }
        foreach (var stage in expected.RootElement.GetProperty("features").EnumerateObject())
        {
            var dims = stage.Value.EnumerateArray().Select(d => d.GetInt32()).Skip(1).Prepend(images.Length);
            Assert.Contains($"  {stage.Name} [{string.Join(", ", dims)}]", lines);
        }

        // A broken spec: the build fails with our diagnostic, located at the value in the JSON.
        string text = File.ReadAllText(spec);
        Assert.Contains("\"scales\": 4,", text);
        File.WriteAllText(spec, text.Replace("\"scales\": 4,", "\"scales\": 1,", StringComparison.Ordinal));
        string[] specLines = File.ReadAllLines(spec);
        int line = Array.FindIndex(specLines, l => l.Contains("\"scales\": 1", StringComparison.Ordinal));
        int column = specLines[line].IndexOf("1", specLines[line].IndexOf(':', StringComparison.Ordinal), StringComparison.Ordinal);
        var broken = DotnetCommand.Dotnet(project, feed.Packages, null, "build", "-c", "Release");
        log.WriteLine($"consumer build with a broken spec: {broken.Elapsed.TotalSeconds:F1} s");
        Assert.NotEqual(0, broken.ExitCode);
        Assert.Contains($"{spec}({line + 1},{column + 1}): error RN0006: Field 'scales' is 1;", broken.Output);
    }

    /// <summary>
    /// <c>dotnet tool install --add-source FEED res2net</c> (here with only the feed as a source) gives a working
    /// <c>res2net</c>: <c>predict</c> on the demo photos with the seeded res2net50-w14-s8 gives PyTorch's top 5.
    /// </summary>
    [Fact]
    public void TheToolInstallsFromTheFeedAndPredicts()
    {
        string folder = TempFolders.Create("res2net-tool-").FullName;
        string tools = Path.Combine(folder, "tools");
        string config = feed.WriteNuGetConfig(folder, feedOnly: true);

        var install = DotnetCommand.Dotnet(folder, feed.Packages, null,
            "tool", "install", "--tool-path", tools, "--configfile", config, "res2net", "--version", feed.Version);
        log.WriteLine($"dotnet tool install: {install.Elapsed.TotalSeconds:F1} s");
        Assert.True(install.ExitCode == 0, install.Tail());

        var expected = DatasetFixtures.Images("seeded");
        var args = new List<string> { "predict" };
        args.AddRange(expected.Select(e => Path.Combine(SeededCheckpoint.DemoDir, e.File)));
        args.AddRange(["--model", SeededCheckpoint.Model, "--checkpoint", SeededCheckpoint.Path, "--json"]);
        var env = new Dictionary<string, string> { ["RES2NET_OFFLINE"] = "1", ["RES2NET_HOME"] = Path.Combine(folder, "home") };
        var predict = DotnetCommand.Run(Path.Combine(tools, "res2net"), folder, feed.Packages, env, args.ToArray());
        log.WriteLine($"res2net predict (load, 4 images): {predict.Elapsed.TotalSeconds:F1} s");
        Assert.True(predict.ExitCode == 0, predict.Tail());

        using var json = JsonDocument.Parse(predict.StandardOutput);
        var results = json.RootElement.EnumerateArray().ToArray();
        Assert.Equal(expected.Count, results.Length);
        for (int i = 0; i < expected.Count; i++)
        {
            var topk = results[i].GetProperty("topk").EnumerateArray().ToArray();
            Assert.Equal(expected[i].TopK, topk.Select(t => t.GetProperty("label").GetInt32()));
            for (int j = 0; j < topk.Length; j++)
            {
                float score = topk[j].GetProperty("score").GetSingle();
                Assert.True(Math.Abs(score - expected[i].Scores[j]) <= ImageClassifierTests.ScoreTolerance(expected[i].Scores[j]),
                    $"{expected[i].File} rank {j}: {score} vs PyTorch {expected[i].Scores[j]}");
            }
        }
    }

    /// <summary>The sample asks for the packages of this repository's version (Directory.Build.props).</summary>
    [Fact]
    public void TheSampleReferencesThePackagesOfThisVersion()
    {
        var csproj = XDocument.Load(GeneratorRunner.RepoFile("samples", Sample, Sample + ".csproj"));
        var reference = csproj.Descendants("PackageReference").Single();
        Assert.Equal(("Res2Net.Generator", PackageFeed.RepositoryVersion), (reference.Attribute("Include")!.Value, reference.Attribute("Version")!.Value));
    }

    /// <summary>The sample's project, program and spec in a new folder outside the repository, asking for the feed's version.</summary>
    private string CopySample()
    {
        string source = GeneratorRunner.RepoFile("samples", Sample);
        string project = TempFolders.Create("res2net-consumer-").FullName;
        Directory.CreateDirectory(Path.Combine(project, "networks"));
        foreach (string file in new[] { "Program.cs", Path.Combine("networks", "flowers.json") })
        {
            File.Copy(Path.Combine(source, file), Path.Combine(project, file));
        }
        string csproj = File.ReadAllText(Path.Combine(source, Sample + ".csproj"));
        string pinned = $"Version=\"{PackageFeed.RepositoryVersion}\"";
        Assert.Single(Regex.Matches(csproj, Regex.Escape(pinned)));
        File.WriteAllText(Path.Combine(project, Sample + ".csproj"), csproj.Replace(pinned, $"Version=\"{feed.Version}\"", StringComparison.Ordinal));
        feed.WriteNuGetConfig(project);
        return project;
    }

    private NupkgContents Package(string id) => new(id, feed.PackagePath(id));

    /// <summary>A .nupkg's file list, nuspec and dependencies (target framework, id, version range).</summary>
    private sealed class NupkgContents
    {
        private readonly string _path;

        public NupkgContents(string id, string path)
        {
            Id = id;
            _path = path;
            using var zip = ZipFile.OpenRead(path);
            Files = zip.Entries.Select(e => e.FullName).ToArray();
            Nuspec = XDocument.Parse(Read(id + ".nuspec"));
            Dependencies = Nuspec.Descendants().Where(e => e.Name.LocalName == "dependency")
                .Select(d => (d.Parent!.Attribute("targetFramework")?.Value ?? "", d.Attribute("id")!.Value, d.Attribute("version")!.Value))
                .ToArray();
        }

        public string Id { get; }

        public string[] Files { get; }

        public XDocument Nuspec { get; }

        public (string Framework, string Id, string Version)[] Dependencies { get; }

        public string? Metadata(string name) =>
            Nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name && e.Parent?.Name.LocalName == "metadata")?.Value;

        public string Read(string entry)
        {
            using var zip = ZipFile.OpenRead(_path);
            var e = zip.Entries.SingleOrDefault(x => string.Equals(x.FullName, entry, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidOperationException($"{Path.GetFileName(_path)} holds no {entry}");
            using var reader = new StreamReader(e.Open());
            return reader.ReadToEnd();
        }
    }
}
