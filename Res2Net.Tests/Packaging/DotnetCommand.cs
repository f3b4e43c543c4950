using System.Diagnostics;

namespace Res2Net.Tests.Packaging;

/// <summary>
/// Runs a program (the <c>dotnet</c> CLI, a built app, an installed tool) as a user's shell would, with the packaging
/// tests' private package folder: not with the MSBuild variables that <c>dotnet test</c> hands its test host, and with
/// no MSBuild node left running afterwards.
/// </summary>
internal static class DotnetCommand
{
    /// <summary>
    /// The exit code; stdout and stderr together (in the order they arrived, line by line), and stdout alone; and the
    /// time it took.
    /// </summary>
    public sealed record Result(int ExitCode, string Output, string StandardOutput, TimeSpan Elapsed)
    {
        /// <summary>The last <paramref name="chars"/> characters of the output, for a failure message.</summary>
        public string Tail(int chars = 6000) => Output.Length <= chars ? Output : "…" + Output[^chars..];
    }

    /// <summary>The dotnet host the tests run under (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    public static string Host => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    public static Result Dotnet(string workingDirectory, string nugetPackages, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        Run(Host, workingDirectory, nugetPackages, environment, args);

    public static Result Run(string program, string workingDirectory, string nugetPackages, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        foreach (string key in start.Environment.Keys.ToArray())
        {
            // dotnet test's MSBuild state (MSBuildExtensionsPath, MSBUILD_EXE_PATH, ...) would steer the child's build.
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)) start.Environment.Remove(key);
        }
        start.Environment["NUGET_PACKAGES"] = nugetPackages;
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["DOTNET_ADD_GLOBAL_TOOLS_TO_PATH"] = "false";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;

        var output = new System.Text.StringBuilder();
        var standardOutput = new System.Text.StringBuilder();
        void Append(DataReceivedEventArgs e, System.Text.StringBuilder? alsoTo)
        {
            if (e.Data == null) return;
            lock (output)
            {
                output.Append(e.Data).Append('\n');
                alsoTo?.Append(e.Data).Append('\n');
            }
        }

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e, standardOutput);
        process.ErrorDataReceived += (_, e) => Append(e, null);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{program} {string.Join(' ', args)} ran past 10 minutes:\n{output}");
        }
        process.WaitForExit(); // drains the output events
        lock (output) return new Result(process.ExitCode, output.ToString(), standardOutput.ToString(), clock.Elapsed);
    }
}
