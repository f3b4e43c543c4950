using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Res2Net.Generator;

namespace Res2Net.Tests.Generator;

/// <summary>Runs the generator in-process on spec texts, as the compiler would, and returns what it produced.</summary>
internal static class GeneratorRunner
{
    public static GeneratorDriverRunResult Run(params (string Path, string Json)[] specs) => Run(out _, specs);

    public static GeneratorDriverRunResult Run(out GeneratorDriver driver, params (string Path, string Json)[] specs)
    {
        var texts = specs.Select(s => (AdditionalText)new InMemoryText(s.Path, s.Json)).ToImmutableArray();
        driver = CSharpGeneratorDriver.Create(
            new[] { new Res2NetGenerator().AsSourceGenerator() },
            texts,
            optionsProvider: SpecOptions(),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(CSharpCompilation.Create("Specs"));
        return driver.GetRunResult();
    }

    /// <summary>
    /// Runs the generator as a consumer project's build would: a compilation that references the runtime and the
    /// framework, documentation comments checked (so malformed XML in one is a warning), unsafe code allowed.
    /// Returns the generator's result and the compilation with the generated files added.
    /// </summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Compile(params (string Path, string Json)[] specs) =>
        Compile(null, specs);

    public static (GeneratorDriverRunResult Result, Compilation Output) Compile(string? res2NetNamespace, params (string Path, string Json)[] specs)
    {
        var texts = specs.Select(s => (AdditionalText)new InMemoryText(s.Path, s.Json)).ToImmutableArray();
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            new[] { new Res2NetGenerator().AsSourceGenerator() }, texts, ParseOptions, SpecOptions(res2NetNamespace));
        var compilation = CSharpCompilation.Create("Consumer", references: References.Value,
            options: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>As <see cref="Compile(string?, (string Path, string Json)[])"/>, in a compilation that also references ILGPU and Res2Net.Gpu.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) CompileWithIlgpu(params (string Path, string Json)[] specs) =>
        CompileWithIlgpu(null, specs);

    /// <summary>As <see cref="CompileWithIlgpu((string Path, string Json)[])"/>, the classes in <paramref name="res2NetNamespace"/>.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) CompileWithIlgpu(string? res2NetNamespace, params (string Path, string Json)[] specs)
    {
        var texts = specs.Select(s => (AdditionalText)new InMemoryText(s.Path, s.Json)).ToImmutableArray();
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            new[] { new Res2NetGenerator().AsSourceGenerator() }, texts, ParseOptions, SpecOptions(res2NetNamespace));
        var references = References.Value
            .Append(MetadataReference.CreateFromFile(typeof(ILGPU.Runtime.Accelerator).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(Res2Net.Gpu.DeviceProgram).Assembly.Location));
        var compilation = CSharpCompilation.Create("Consumer", references: references,
            options: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return (driver.GetRunResult(), output);
    }

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    /// <summary>
    /// The framework's assemblies and the runtime's, read once (reading them is most of a small compilation's cost); not
    /// ILGPU's, which this test host loads for the device tests but which would turn on the device forwards (see
    /// <see cref="CompileWithIlgpu"/>).
    /// </summary>
    private static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => !Path.GetFileName(p).StartsWith("ILGPU", StringComparison.Ordinal) && !Path.GetFileName(p).StartsWith("Res2Net.Gpu", StringComparison.Ordinal))
            .Append(typeof(Res2Net.Runtime.Networks.CompiledNetwork).Assembly.Location)
            .Distinct(StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToArray());

    /// <summary>
    /// What a project's build hands the generator: the Res2NetNamespace property and, for every AdditionalFile that
    /// <paramref name="isSpec"/> accepts (default: all), the item metadata <c>Res2NetSpec="true"</c> that the package's
    /// build files set on spec files.
    /// </summary>
    public static Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider SpecOptions(string? res2NetNamespace = null, Func<string, bool>? isSpec = null) =>
        new BuildProperties(res2NetNamespace, isSpec ?? (_ => true));

    private sealed class BuildProperties(string? res2NetNamespace, Func<string, bool> isSpec) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider
    {
        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GlobalOptions { get; } =
            new Options("build_property.Res2NetNamespace", res2NetNamespace);

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options(null, null);

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
            new Options(Res2NetGenerator.SpecMetadata, isSpec(textFile.Path) ? "true" : null);

        private sealed class Options(string? key, string? value) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
        {
            public override bool TryGetValue(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? result)
            {
                result = name == key ? value : null;
                return result != null;
            }
        }
    }

    public static string RepoFile(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Res2Net.slnx"))) dir = dir.Parent;
        if (dir == null) throw new InvalidOperationException("repository root (Res2Net.slnx) not found above " + AppContext.BaseDirectory);
        return Path.Combine(new[] { dir.FullName }.Concat(parts).ToArray());
    }

    internal sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path => path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }
}
