using System.CommandLine;
using Res2Net.Models;

namespace Res2Net.Cli.Commands;

/// <summary>The <c>--model</c> option shared by the commands: a network by mmpretrain name (or class name).</summary>
internal static class ModelOption
{
    public static Option<string> Create() => new("--model", "-m")
    {
        Description = "Network to run, by mmpretrain name: " + string.Join(", ", Res2NetModels.All.Select(m => m.Name)) + ".",
        Required = true,
    };
}
